/* The load generator of bench/bench_signin.py: complete WebAuthn sign-ins over HTTP/1.1, as a browser with a
 * security key makes them, spending as little of the shared CPU as it can (the server under test runs on the
 * same two cores).  bench_signin.py builds it with gcc and OpenSSL's libcrypto, enrols the keys, and reads
 * what it writes.
 *
 *   signin_load PORT ORIGIN RP_ID KEYS_FILE CLIENTS SECONDS OUT_PREFIX
 *
 * KEYS_FILE: one key per line, tab-separated: email, credential id (base64url), user handle (base64url, or -),
 * the key's current signature counter, its private key (PKCS#8 DER, hex).  CLIENTS processes each take every
 * CLIENTS-th key and sign in with their keys in turn until SECONDS have passed:
 *
 *   1. POST /api/webauthn/login/options {"email": ...}            -> 200, PublicKeyCredentialRequestOptionsJSON
 *   2. sign: authenticatorData = SHA-256(RP_ID) | flags UP+UV | counter + 1;
 *            signature = ECDSA P-256 / SHA-256 over authenticatorData | SHA-256(clientDataJSON), DER
 *   3. POST /api/webauthn/login/verify AuthenticationResponseJSON  -> 200 and a Set-Cookie: sg_session=...
 *
 * Anything else ends the run with a message and exit status 1 (a refused sign-in is a failed benchmark).
 * Client k writes OUT_PREFIX.k: a line "signins cpu_seconds started ended" (CLOCK_MONOTONIC seconds), then one
 * sign-in latency per line, in microseconds.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    char email[256];
    char cred[512];
    char handle[256];
    uint32_t counter;
    EVP_PKEY *key;
} Key;

static void die(const char *what, const char *detail) {
    fprintf(stderr, "signin_load: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t b64url(const unsigned char *in, size_t n, char *out) {
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = abc[v >> 18 & 63], out[o++] = abc[v >> 12 & 63], out[o++] = abc[v >> 6 & 63], out[o++] = abc[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = abc[v >> 18 & 63], out[o++] = abc[v >> 12 & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = abc[v >> 18 & 63], out[o++] = abc[v >> 12 & 63], out[o++] = abc[v >> 6 & 63];
    }
    out[o] = 0;
    return o;
}

/* One request.  Sync workers close each connection after one response, and the response then ends at the
 * close; a server that keeps the connection open (keep-alive) ends it at Content-Length, and the connection is
 * used again for the next request.  Returns the HTTP status; *head_end points at the body in buf. */
static int conn = -1;

static int post(int port, const char *path, const char *body, size_t body_len, char *buf, size_t cap,
                char **head_end) {
    if (conn < 0) {
        conn = socket(AF_INET, SOCK_STREAM, 0);
        if (conn < 0) die("socket", strerror(errno));
        int one = 1;
        setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct timeval tv = {30, 0};
        setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(conn, (struct sockaddr *)&addr, sizeof addr) < 0) die("connect", strerror(errno));
    }
    char req[8192];
    int n = snprintf(req, sizeof req,
                     "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
                     "Sec-Fetch-Site: same-origin\r\nContent-Length: %zu\r\n\r\n",
                     path, port, body_len);
    if (n < 0 || (size_t)n + body_len > sizeof req) die("request too long", path);
    memcpy(req + n, body, body_len);
    size_t total = n + body_len, sent = 0;
    while (sent < total) {
        ssize_t w = send(conn, req + sent, total - sent, MSG_NOSIGNAL);
        if (w <= 0) die("send", strerror(errno));
        sent += w;
    }
    size_t got = 0;
    long length = -1;
    char *end = NULL;
    int closed = 0;
    for (;;) {
        if (got + 1 >= cap) die("response too long", path);
        ssize_t r = recv(conn, buf + got, cap - 1 - got, 0);
        if (r < 0) die("recv", strerror(errno));
        if (r == 0) {
            closed = 1;
            break;
        }
        got += r;
        buf[got] = 0;
        if (!end && (end = strstr(buf, "\r\n\r\n"))) {
            *end = 0;
            char *cl = strcasestr(buf, "\r\ncontent-length:");
            if (cl) length = atol(cl + 17);
            if (strcasestr(buf, "\r\nconnection: close")) length = -1; /* read to the close */
            *end = '\r';
        }
        if (end && length >= 0 && (size_t)(end + 4 - buf) + (size_t)length <= got) break;
    }
    if (closed || length < 0) {
        if (!closed) { /* read the rest up to the close */
            for (;;) {
                ssize_t r = recv(conn, buf + got, cap - 1 - got, 0);
                if (r <= 0) break;
                got += r;
            }
        }
        close(conn);
        conn = -1;
    }
    buf[got] = 0;
    end = strstr(buf, "\r\n\r\n");
    if (got < 12 || !end) die("no HTTP response", path);
    *head_end = end + 4;
    return atoi(buf + 9);
}

static void sign_in(int port, const char *origin, const unsigned char rp_hash[32], Key *k) {
    char buf[16384], *payload;
    char body[8192];
    int n = snprintf(body, sizeof body, "{\"email\":\"%s\"}", k->email);
    int status = post(port, "/api/webauthn/login/options", body, n, buf, sizeof buf, &payload);
    if (status != 200) die("options refused", buf);
    char *c = strstr(payload, "\"challenge\":");
    if (!c) die("no challenge in", payload);
    c = strchr(c + 12, '"');
    char *ce = c ? strchr(c + 1, '"') : NULL;
    if (!ce || ce - c > 200) die("bad challenge in", payload);
    char challenge[256];
    memcpy(challenge, c + 1, ce - c - 1);
    challenge[ce - c - 1] = 0;

    char client_data[1024];
    int cd_len = snprintf(client_data, sizeof client_data,
                          "{\"type\":\"webauthn.get\",\"challenge\":\"%s\",\"origin\":\"%s\",\"crossOrigin\":false}",
                          challenge, origin);
    unsigned char signed_data[37 + 32];
    memcpy(signed_data, rp_hash, 32);
    signed_data[32] = 0x05; /* user present, user verified */
    k->counter += 1;
    signed_data[33] = k->counter >> 24, signed_data[34] = k->counter >> 16;
    signed_data[35] = k->counter >> 8, signed_data[36] = k->counter;
    SHA256((const unsigned char *)client_data, cd_len, signed_data + 37);

    unsigned char sig[128];
    size_t sig_len = sizeof sig;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k->key) != 1 ||
        EVP_DigestSign(md, sig, &sig_len, signed_data, sizeof signed_data) != 1)
        die("signing failed", k->email);
    EVP_MD_CTX_free(md);

    char cd64[1400], ad64[64], sig64[200];
    b64url((const unsigned char *)client_data, cd_len, cd64);
    b64url(signed_data, 37, ad64);
    b64url(sig, sig_len, sig64);
    char handle[300] = "";
    if (strcmp(k->handle, "-") != 0) snprintf(handle, sizeof handle, ",\"userHandle\":\"%s\"", k->handle);
    n = snprintf(body, sizeof body,
                 "{\"id\":\"%s\",\"rawId\":\"%s\",\"type\":\"public-key\",\"response\":{\"clientDataJSON\":\"%s\","
                 "\"authenticatorData\":\"%s\",\"signature\":\"%s\"%s},\"authenticatorAttachment\":\"cross-platform\","
                 "\"clientExtensionResults\":{}}",
                 k->cred, k->cred, cd64, ad64, sig64, handle);
    if (n < 0 || (size_t)n >= sizeof body) die("assertion too long", k->email);
    status = post(port, "/api/webauthn/login/verify", body, n, buf, sizeof buf, &payload);
    if (status != 200) die("sign-in refused", buf);
    payload[-4] = 0; /* the header block only */
    if (!strcasestr(buf, "\r\nset-cookie: sg_session=")) die("no session cookie", buf);
}

static EVP_PKEY *key_from_hex(const char *hex) {
    size_t n = strlen(hex) / 2;
    unsigned char *der = malloc(n);
    for (size_t i = 0; i < n; i++) sscanf(hex + 2 * i, "%2hhx", &der[i]);
    const unsigned char *p = der;
    EVP_PKEY *key = d2i_AutoPrivateKey(NULL, &p, (long)n);
    free(der);
    if (!key) die("not a private key", hex);
    return key;
}

int main(int argc, char **argv) {
    if (argc != 8) die("usage: signin_load PORT ORIGIN RP_ID KEYS_FILE CLIENTS SECONDS OUT_PREFIX", NULL);
    int port = atoi(argv[1]), clients = atoi(argv[5]);
    const char *origin = argv[2], *rp_id = argv[3], *out_prefix = argv[7];
    double seconds = atof(argv[6]);
    FILE *f = fopen(argv[4], "r");
    if (!f) die("cannot read", argv[4]);
    size_t cap = 64, count = 0;
    Key *keys = calloc(cap, sizeof *keys);
    char line[8192], hex[4096];
    while (fgets(line, sizeof line, f)) {
        if (count == cap) keys = realloc(keys, (cap *= 2) * sizeof *keys);
        Key *k = &keys[count];
        if (sscanf(line, "%255s\t%511s\t%255s\t%u\t%4095s", k->email, k->cred, k->handle, &k->counter, hex) != 5)
            die("bad key line", line);
        k->key = key_from_hex(hex);
        count++;
    }
    fclose(f);
    if (count == 0 || clients < 1) die("no keys or no clients", NULL);
    unsigned char rp_hash[32];
    SHA256((const unsigned char *)rp_id, strlen(rp_id), rp_hash);

    double start = now() + 0.05, deadline = start + seconds;
    for (int c = 0; c < clients; c++) {
        pid_t pid = fork();
        if (pid < 0) die("fork", strerror(errno));
        if (pid > 0) continue;
        size_t mine = 0;
        for (size_t i = c; i < count; i += clients) keys[mine++] = keys[i];
        if (mine == 0) die("a client without keys", NULL);
        size_t lat_cap = 1 << 16, done = 0;
        uint32_t *lat = malloc(lat_cap * sizeof *lat);
        while (now() < start) {
        }
        struct rusage r0, r1;
        getrusage(RUSAGE_SELF, &r0);
        double t;
        while ((t = now()) < deadline) {
            sign_in(port, origin, rp_hash, &keys[done % mine]);
            if (done == lat_cap) lat = realloc(lat, (lat_cap *= 2) * sizeof *lat);
            lat[done++] = (uint32_t)((now() - t) * 1e6);
        }
        double ended = now();
        getrusage(RUSAGE_SELF, &r1);
        double cpu = (r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) + (r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) / 1e6 +
                     (r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) + (r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1e6;
        char path[4096];
        snprintf(path, sizeof path, "%s.%d", out_prefix, c);
        FILE *out = fopen(path, "w");
        if (!out) die("cannot write", path);
        fprintf(out, "%zu %.6f %.6f %.6f\n", done, cpu, start, ended);
        for (size_t i = 0; i < done; i++) fprintf(out, "%u\n", lat[i]);
        fclose(out);
        _exit(0);
    }
    int failed = 0, st;
    while (wait(&st) > 0)
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) failed = 1;
    return failed;
}
