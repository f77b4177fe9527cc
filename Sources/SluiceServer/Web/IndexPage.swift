/// The web UI's only page; `app.js` renders every view into it.
enum IndexPage {
    static let html = #"""
    <!doctype html>
    <html lang="en">
    <head>
      <meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>Sluice</title>
      <link rel="stylesheet" href="/style.css">
    </head>
    <body>
      <header>
        <a class="brand" href="#/">Sluice</a>
        <nav><a href="#/">Pipelines</a><a href="#/runs">Runs</a></nav>
        <span id="connection" class="muted" title="live updates">●</span>
      </header>
      <main id="view"><p class="muted">Loading…</p></main>
      <script src="/app.js"></script>
    </body>
    </html>
    """#
}
