#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>

// OpenSSL macros that Swift cannot import, as functions.

/// Refuses anything older than TLS 1.2.
static inline int copenssl_require_tls12(SSL_CTX *context) {
    return (int)SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
}

/// Partial writes, and a retried write may come from a moved (grown) buffer.
static inline void copenssl_set_write_modes(SSL_CTX *context) {
    SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

/// Sends `name` as SNI.
static inline int copenssl_set_server_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

static int copenssl_passphrase_callback(char *buffer, int size, int rwflag, void *userdata) {
    (void)rwflag;
    if (userdata == NULL) return 0;  // no passphrase: never prompt on the terminal
    size_t length = strlen((const char *)userdata);
    if (length > (size_t)size) return 0;
    memcpy(buffer, userdata, length);
    return (int)length;
}

/// Key passwords come from `passphrase` (NULL: none), never from a terminal prompt. `passphrase`
/// must stay valid until the key is loaded.
static inline void copenssl_use_passphrase(SSL_CTX *context, const char *passphrase) {
    SSL_CTX_set_default_passwd_cb(context, copenssl_passphrase_callback);
    SSL_CTX_set_default_passwd_cb_userdata(context, (void *)passphrase);
}

#endif
