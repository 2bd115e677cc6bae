/* The HTTP/2 client session (lib/h2.c) against any server bytes: its
 * frames through nghttp2, the header list into the response, the h2
 * facts, the body reader.
 *
 * Input: one byte of settings (body read or not, small or large header
 * caps), then chunks, each a length byte and that many bytes of what
 * the server sends (the first chunk should open with its SETTINGS
 * frame), fed in turn with whatever the session has to send drained
 * between them.  Invariants: the caps hold on the decoded list, the
 * facts stay within their bounds, a final head has a final status, the
 * body read stays within body_bytes, and whatever stops the exchange is
 * one of the errors the leg knows. */
#include "fuzz.h"
#include "h2.h"
#include "http.h"

static struct hscan__md md;     /* one per process, as one per scanner */

static int known_error(int err)
{
    return err == HSCAN_EH2_PROTOCOL || err == HSCAN_EH2_GOAWAY ||
           err == HSCAN_EH2_RST_STREAM || err == HSCAN_EHEADER_TOO_LARGE ||
           err == HSCAN_ETOO_MANY_HEADERS ||
           err == HSCAN_ERESOURCE_EXHAUSTED;
}

static void drain(struct hscan__h2 *h)
{
    const uint8_t *data;
    long n;
    int i;

    /* nghttp2 queues a bounded number of frames (ACKs included) */
    for (i = 0; i < 100000 && (n = hscan__h2_out(h, &data)) > 0; i++)
        FUZZ_CHECK(data != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = { data, size };
    unsigned mode = fz_u8(&f);
    size_t max_bytes = mode & 1 ? 512 : 65536;
    unsigned max_hdrs = mode & 2 ? 8 : 256;
    struct hscan__resp resp;
    struct hscan__h2_facts facts;
    struct hscan__h2 h;
    char req[] = "GET /p?q HTTP/1.1\r\nHost: example.com\r\n"
                 "User-Agent: hscan/fuzz\r\nAccept: */*\r\n"
                 "Connection: close\r\nTE: gzip\r\n\r\n";

    hscan__resp_init(&resp, max_bytes, max_hdrs);
    memset(&facts, 0, sizeof(facts));
    facts.v.window_update = -1;
    facts.v.settings = facts.settings;
    memset(&h, 0, sizeof(h));
    h.resp = &resp;
    h.facts = &facts;
    if (mode & 4) {
        h.body_bytes = mode & 8 ? 16 : 8192;
        h.md = &md;
        h.body_keep = (mode & 16) != 0;
    }
    if (hscan__h2_new(&h) != 0 ||
        hscan__h2_request(&h, req, sizeof(req) - 1, 1, "example.com",
                          11, mode & 32 ? "a=1&b=2" : NULL, 7) != 0) {
        hscan__h2_free(&h);
        hscan__resp_free(&resp);
        return 0;
    }
    drain(&h);
    while (f.n > 0 && !h.err && !hscan__h2_over(&h)) {
        const uint8_t *chunk;
        size_t n = fz_take(&f, fz_u8(&f), &chunk);

        hscan__h2_recv(&h, (const char *)chunk, n);
        drain(&h);
        if (h.head && (h.closed || !resp.body_on || resp.body_done))
            break;
    }
    FUZZ_CHECK(resp.n_hdrs <= max_hdrs);
    FUZZ_CHECK(resp.head_bytes <= max_bytes);
    FUZZ_CHECK(facts.v.n_settings <= HSCAN__H2_MAX_SETTINGS);
    FUZZ_CHECK(facts.v.window_update >= -1 &&
               facts.v.window_update <= 0x7fffffff);
    if (h.err)
        FUZZ_CHECK(known_error(h.err) && h.detail[0]);
    if (h.head) {
        FUZZ_CHECK(resp.status >= 100 && resp.status <= 999);
        FUZZ_CHECK(resp.status >= 200 || resp.status == 101);
        FUZZ_CHECK(resp.done && resp.complete);
        FUZZ_CHECK(!resp.body_on || resp.body_len <= h.body_bytes);
        if (resp.body_on)
            hscan__resp_body_cut(&resp, h.closed && !h.close_code);
    } else {
        FUZZ_CHECK(!resp.body_on);
    }
    FUZZ_CHECK(resp.n_interim <= HSCAN__MAX_INTERIM);
    hscan__h2_free(&h);
    hscan__resp_free(&resp);
    return 0;
}
