"""Just enough of the XLSX format to write one sheet and read the first one, with the standard library only
(an .xlsx file is a zip of XML parts)."""
import re
import zipfile
from xml.etree import ElementTree
from xml.sax.saxutils import escape

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
PARTS = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
}


def column(index):
    name = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        name = chr(65 + remainder) + name
    return name


def cell(reference, value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<c r="{reference}"><v>{value}</v></c>'
    return f'<c r="{reference}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def write(path, header, rows):
    """One sheet: the header row, then the rows. Numbers stay numbers; everything else is text."""
    lines = [f'<row r="{r + 1}">' + "".join(cell(f"{column(c)}{r + 1}", v) for c, v in enumerate(values)) + "</row>"
             for r, values in enumerate([header] + list(rows))]
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f'<sheetData>{"".join(lines)}</sheetData></worksheet>')
    # A fixed timestamp keeps the file identical for identical content.
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in list(PARTS.items()) + [("xl/worksheets/sheet1.xml", sheet)]:
            archive.writestr(zipfile.ZipInfo(name, (2025, 1, 1, 0, 0, 0)), text)


def read(path):
    """The first sheet's rows as lists of strings (shared or inline strings, numbers as written)."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        shared = []
        if "xl/sharedStrings.xml" in names:
            for item in ElementTree.fromstring(archive.read("xl/sharedStrings.xml")).iter(MAIN + "si"):
                shared.append("".join(text.text or "" for text in item.iter(MAIN + "t")))
        sheet = sorted(name for name in names if re.match(r"xl/worksheets/sheet\d+\.xml$", name))[0]
        rows = []
        for row in ElementTree.fromstring(archive.read(sheet)).iter(MAIN + "row"):
            values = {}
            for c in row.iter(MAIN + "c"):
                letters = re.match(r"[A-Z]+", c.get("r")).group()
                index = 0
                for letter in letters:
                    index = index * 26 + ord(letter) - 64
                kind, value = c.get("t"), c.find(MAIN + "v")
                if kind == "inlineStr":
                    text = "".join(t.text or "" for t in c.iter(MAIN + "t"))
                elif kind == "s":
                    text = shared[int(value.text)]
                else:
                    text = value.text if value is not None else ""
                values[index - 1] = text
            rows.append([values.get(i, "") for i in range(max(values) + 1)] if values else [])
        return rows
