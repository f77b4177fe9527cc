#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "CSluiceSupport.h"

int sluice_sha256_fd(int fd, unsigned char digest[32]) {
    enum { chunk = 1 << 20 };
    unsigned char *buffer = malloc(chunk);
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    int result = -1;
    if (buffer == NULL || context == NULL || EVP_DigestInit_ex(context, EVP_sha256(), NULL) != 1) {
        errno = ENOMEM;
        goto done;
    }
    for (;;) {
        ssize_t count = read(fd, buffer, chunk);
        if (count < 0 && errno == EINTR) continue;
        if (count < 0) goto done;
        if (count == 0) break;
        EVP_DigestUpdate(context, buffer, (size_t)count);
    }
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(context, digest, &length) == 1 && length == 32) result = 0;
done:
    EVP_MD_CTX_free(context);
    free(buffer);
    return result;
}

void sluice_sha256(const void *data, size_t length, unsigned char digest[32]) {
    unsigned int size = 32;
    EVP_Digest(data, length, digest, &size, EVP_sha256(), NULL);
}
