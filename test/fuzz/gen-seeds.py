#!/usr/bin/env python3
"""Write the seed corpora of test/fuzz/corpus/<harness>/.

Run from anywhere: python3 test/fuzz/gen-seeds.py.  The seeds are small,
meaningful inputs in each harness's input layout (see the comment at the
top of each fuzz-*.c).  Files named regress-* are crash or invariant
reproducers found by fuzzing; this script never touches them.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, 'corpus')


def write(harness, name, data):
    d = os.path.join(CORPUS, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


# ---- input lines (fuzz-target.c: the bytes are the line) ----

def target_seeds():
    lines = {
        'name': b'example.com',
        'name-space': b'  example.com\t\r\n',
        'name-port': b'example.com:8080',
        'url-path': b'http://example.com/some/path?q',
        'url-case-frag': b'HTTP://Example.COM:81/x#frag',
        'https': b'https://example.com:8443/a/b',
        'query-only': b'example.com?q=1',
        'ipv4': b'192.0.2.1',
        'ipv4-port': b'192.0.2.1:65535',
        'ipv6-port': b'[2001:db8::1]:8080',
        'ipv6-url': b'http://[::1]/p',
        'ipv6-mapped': b'[::ffff:192.0.2.1]',
        'ipv6-zone': b'[fe80::1%eth0]',
        'ipv6-open': b'[::1',
        'ipv6-junk': b'[::1]x',
        'underscore': b'_dmarc.example.com',
        'trailing-dot': b'example.com.',
        'comment': b'# a comment line',
        'blank': b' \t \r\n',
        'scheme-ftp': b'ftp://example.com/',
        'creds': b'http://user:pw@example.com/',
        'port-0': b'example.com:0',
        'port-big': b'example.com:65536',
        'port-empty': b'example.com:',
        'nul': b'exa\x00mple.com',
        'utf8': b'ex\xc3\xa4mple.com',
        'bom': b'\xef\xbb\xbfexample.com',
        'label-64': b'a' * 64 + b'.com',
        'name-254': (b'a' * 63 + b'.') * 3 + b'a' * 62 + b'.',
        'all-num': b'1.2.3',
        'ipv4-leading0': b'01.2.3.4',
        'empty-label': b'a..b',
        'path-del': b'http://x/\x7f',
        'path-space': b'http://x/a path',
        'path-8bit': b'http://x/\xff',
        'scheme-only': b'https://',
        'no-host': b'http://:80/',
        'frag-ctl': b'http://a/b?c#d\x01 e',
        'punycode': b'xn--bcher-kva.example',
        'colon-slashes': b'a/x://y',
        'long-line': b'http://example.com/' + b'a' * 8180,
    }
    for name, line in lines.items():
        write('target', name, line)


# ---- HTTP responses (fuzz-http.c: mode, limit hi, limit lo, count, k,
#      k chunk sizes, then the bytes) ----

def http(mode=0, limit=0, count=0, sizes=b''):
    return bytes([mode, limit >> 8 & 255, limit & 255, count,
                  len(sizes)]) + sizes


def http_seeds():
    ok = (b'HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html'
          b'\r\nContent-Length: 5\r\n\r\nhello')
    seeds = {
        'ok': http() + ok,
        'ok-1byte': http(sizes=b'\x00') + ok,
        'ok-splits': http(sizes=b'\x02\x06\x0c') + ok,
        'ok-small-limits': http(3, 40, 2) + ok,
        'chunked': http(sizes=b'\x07') + (
            b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'
            b'5\r\nhello\r\n0\r\n\r\n'),
        'interim': http(sizes=b'\x10\x03') + (
            b'HTTP/1.1 100 Continue\r\n\r\n'
            b'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n'
            b'\r\nHTTP/1.1 103 Early Hints\r\nLink: </b.js>\r\n\r\n'
            b'HTTP/1.1 200 OK\r\nX-Final: yes\r\n\r\n'),
        'switching': http() + (
            b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n'
            b'Connection: Upgrade\r\n\r\n\x81\x05hello'),
        'no-content': http() + b'HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n',
        'not-modified': http() + b'HTTP/1.1 304 Not Modified\r\n\r\n',
        'http10-noreason': http() + b'HTTP/1.0 200\r\nA: b\r\n\r\n',
        'lf-only': http() + b'HTTP/1.1 200 OK\nServer: x\nA: b\n\n',
        'obs-fold': http() + (
            b'HTTP/1.1 200 OK\r\nX-Long: part one\r\n  part two\r\n\r\n'),
        'empty-values': http() + (
            b'HTTP/1.1 200 OK\r\nX-Empty:\r\nX-Sp: \r\nY:z\r\n\r\n'),
        'odd-bytes': http(sizes=b'\x04') + (
            b'HTTP/1.1 200 \x80\xffOk\x01\r\nX-B\xe9: v\x00al\xc3\xa4\x7f'
            b'\r\nX-Esc: \x1b[31m\r\n\r\n'),
        'dup-cl': http() + (
            b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6'
            b'\r\n\r\nhello'),
        'cl-te': http() + (
            b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n'
            b'Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n'),
        'chunk-huge': http() + (
            b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'
            b'ffffffffffffffffff\r\n'),
        'space-in-name': http() + b'HTTP/1.1 200 OK\r\nFoo Bar: x\r\n\r\n',
        'no-colon': http() + b'HTTP/1.1 200 OK\r\nJustAName\r\n\r\n',
        'status-2000': http() + b'HTTP/1.1 2000 OK\r\n\r\n',
        'ssh-banner': http() + b'SSH-2.0-OpenSSH_8.9p1 Debian\r\n',
        'tls-alert': http() + b'\x15\x03\x03\x00\x02\x02\x28',
        'http09': http() + b'<html><body>hi</body></html>\n',
        'truncated': http(sizes=b'\x05') + b'HTTP/1.1 200 OK\r\nServer: ng',
        'empty': http(),
        'status-split': http(sizes=b'\x00') + b'HTTP/1.1 302 Found\r\n'
                        b'Location: /next\r\n\r\n',
        # 300 tiny headers: past the default 256
        'many-headers': http(sizes=b'\xff') + b'HTTP/1.1 200 OK\r\n' +
                        b''.join(b'h%d:v\r\n' % i for i in range(300)) +
                        b'\r\n',
        'many-headers-small': http(2, 0, 7) + b'HTTP/1.1 200 OK\r\n' +
                              b'a:1\r\n' * 9 + b'\r\n',
        # one header larger than the default 64 KiB block
        'huge-header': http(sizes=b'\xff\x40') + b'HTTP/1.1 200 OK\r\n'
                       b'X-Big: ' + b'x' * 66000 + b'\r\n\r\n',
        'big-header-small': http(1, 300, 0, b'\x20') + b'HTTP/1.1 200 OK'
                            b'\r\nX-Big: ' + b'y' * 600 + b'\r\n\r\n',
        'spaces-small': http(1, 64, 0) + b'HTTP/1.1 200 OK\r\nA:' +
                        b' ' * 100 + b'b\r\n\r\n',
        # anomalies the own parser reads through (lib/http.c), with the
        # body read (mode 4) so that the framer runs too
        'anom-framing': http(4, 900, 0, b'\x05\x0b') + (
            b'HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\nContent-Length:'
            b' x\r\nTransfer-Encoding: identity, Chunked;q=1\r\n\r\n'
            b'3;ext\r\nabc\n0\r\nT: 1\r\n\r\n'),
        'anom-fields': http(sizes=b'\x03') + (
            b'HTTP/1.1  200\tOK\r\n X-Lead: 1\r\nX-A : v\r\nNoColon\r\n'
            b' cont\r\nX-F: a\r\n\t b \r\nX-C: a\rb\r\n\r\r\n'),
        'anom-version': http() + b'http/1.2 200 OK\nA: b\n\n',
        'anom-cut-by-close': http(4, 900, 0, b'\x02') + (
            b'HTTP/1.1 200 OK\r\nServer: x\r\n'),
        'anom-chunk-bad': http(4, 900, 0) + (
            b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'
            b'4\r\nabcdXY0\r\n\r\n'),
        'interim-many': http(sizes=b'\x09') +
                        b'HTTP/1.1 102 P\r\n\r\n' * 20 +
                        b'HTTP/1.1 200 OK\r\n\r\n',
    }
    for name, data in seeds.items():
        write('http', name, data)


# ---- DNS replies (fuzz-dns.c: flags, then the message) ----

def dns_name(name):
    out = b''
    for label in name.split(b'.'):
        if label:
            out += bytes([len(label)]) + label
    return out + b'\x00'


def dns_msg(qname, qtype, answers, qd=1, an=None, flags=0x8180):
    """answers: list of (owner bytes already encoded, type, ttl, rdata)."""
    if an is None:
        an = len(answers)
    msg = struct.pack('>HHHHHH', 0x1234, flags, qd, an, 0, 0)
    msg += dns_name(qname) + struct.pack('>HH', qtype, 1)
    for owner, rtype, ttl, rdata in answers:
        msg += owner + struct.pack('>HHIH', rtype, 1, ttl, len(rdata)) + rdata
    return msg


PTR_Q = b'\xc0\x0c'         # the question name
A, AAAA, CNAME = 1, 28, 5


def dns_seeds():
    q = b'www.example.com'
    cname_target = dns_name(b'edge.cdn.example.net')
    seeds = {
        'a': (0, dns_msg(q, A, [(PTR_Q, A, 300, bytes([192, 0, 2, 1]))])),
        'a-two': (0, dns_msg(q, A, [(PTR_Q, A, 300, bytes([192, 0, 2, 1])),
                                    (PTR_Q, A, 60, bytes([192, 0, 2, 2]))])),
        'aaaa': (1, dns_msg(q, AAAA, [(PTR_Q, AAAA, 300,
                                      bytes(range(16)))])),
        'cname-chain': (0, dns_msg(q, A, [
            (PTR_Q, CNAME, 600, cname_target),
            (cname_target, A, 30, bytes([198, 51, 100, 7]))])),
        'cname-compressed': (0, dns_msg(q, A, [
            (PTR_Q, CNAME, 600, b'\x04edge\xc0\x10'),   # edge.example.com
            (b'\x04edge\xc0\x10', A, 30, bytes([198, 51, 100, 8]))])),
        'cname-loop': (0, dns_msg(b'a.test', A, [
            (PTR_Q, CNAME, 5, dns_name(b'b.test')),
            (dns_name(b'b.test'), CNAME, 5, dns_name(b'a.test')),
            (dns_name(b'a.test'), CNAME, 5, dns_name(b'b.test'))])),
        'wrong-owner': (0, dns_msg(q, A, [
            (dns_name(b'evil.test'), A, 300, bytes([6, 6, 6, 6]))])),
        'wrong-rdlen': (0, dns_msg(q, A, [(PTR_Q, A, 300, bytes(16))])),
        'aaaa-in-a': (0, dns_msg(q, A, [(PTR_Q, AAAA, 300, bytes(16))])),
        'many-a': (0, dns_msg(q, A, [(PTR_Q, A, 100 + i, bytes([10, 0, 0, i]))
                                    for i in range(20)])),
        'cap-shared': (2 * 14, dns_msg(q, A, [
            (PTR_Q, A, 1, bytes([10, 0, 0, i])) for i in range(4)])),
        'an-count-lies': (0, dns_msg(q, A, [(PTR_Q, A, 300, bytes(4))],
                                     an=500)),
        'qd-2': (0, dns_msg(q, A, [], qd=2)),
        'header-only': (0, struct.pack('>HHHHHH', 1, 0x8180, 1, 1, 0, 0)),
        'short': (0, b'\x12\x34\x81'),
        'empty': (0, b''),
        'nodata': (0, dns_msg(q, A, [])),
        'ttl-zero-max': (0, dns_msg(q, A, [
            (PTR_Q, A, 0, bytes(4)), (PTR_Q, A, 0xffffffff, bytes(4))])),
    }
    # A question name that points at itself, and one that points ahead.
    hdr = struct.pack('>HHHHHH', 1, 0x8180, 1, 0, 0, 0)
    seeds['ptr-self'] = (0, hdr + b'\xc0\x0c' + struct.pack('>HH', 1, 1))
    seeds['ptr-forward'] = (0, hdr + b'\xc0\x0e\x01a\x00' +
                            struct.pack('>HH', 1, 1))
    # A pointer back into its own label bytes: bounded by the name size.
    seeds['ptr-into-label'] = (0, hdr + b'\x02ab\xc0\x0c\x00' +
                               struct.pack('>HH', 1, 1))
    seeds['label-reserved'] = (0, hdr + b'\x41abc\x00' +
                               struct.pack('>HH', 1, 1))
    # Labels with '.', '\\', space, 0xff and a 255-byte name.
    odd = b'\x05a.b\\ \x01\xff\x03com\x00'
    seeds['odd-label'] = (0, struct.pack('>HHHHHH', 1, 0x8180, 1, 1, 0, 0) +
                          odd + struct.pack('>HH', 1, 1) + PTR_Q +
                          struct.pack('>HHIH', A, 1, 9, 4) + bytes(4))
    long_name = b'.'.join([b'x' * 63] * 3 + [b'y' * 61])
    seeds['name-255'] = (0, dns_msg(long_name, A, [(PTR_Q, A, 1, bytes(4))]))
    seeds['name-escaped-long'] = (0, dns_msg(b'\xff' * 63 + b'.' +
                                             b'\x00' * 63, A,
                                             [(PTR_Q, A, 1, bytes(4))]))
    seeds['truncated-rdata'] = (0, dns_msg(q, A, [(PTR_Q, A, 300,
                                                   bytes(4))])[:-2])
    for name, (flags, msg) in seeds.items():
        write('dns', name, bytes([flags]) + msg)


# ---- result views (fuzz-json.c reads its fields in this order) ----

class Json:
    def __init__(self):
        self.b = b''

    def u8(self, v):
        self.b += bytes([v & 255])

    def u32(self, v):
        self.b += struct.pack('>I', v & 0xffffffff)

    def bytes_(self, s):            # gen_bytes
        self.u8(len(s))
        self.b += s

    def cstr(self, s):              # gen_cstr; None for NULL
        if s is None:
            self.u8(1)
        else:
            self.u8(0)
            self.bytes_(s)

    def ms(self, v):                # gen_ms
        if v is None:
            self.u8(0)
        elif isinstance(v, bytes):  # raw double bits
            self.u8(3)
            self.b += v
        else:
            self.u8(1)
            self.u32(int(v * 1000))

    def error(self, sel=0, raw=None):
        # gen_error: < 64 none, < 192 a code of the table, else raw
        if raw is not None:
            self.u8(200)
            self.u32(raw)
        else:
            self.u8(sel)


def json_result(headers=(), tls=None, hops=(), error=None, fallback=None,
                reason=b'OK', inp=b'example.com', dns=True, ms=1.5,
                raw_ms=None):
    j = Json()
    j.u8(0x55)                      # sel: the short-buffer cut
    j.bytes_(inp)
    j.cstr(b'https://example.com/')
    j.cstr(b'https')
    j.cstr(b'example.com')
    j.cstr(b'192.0.2.1')
    j.u32(443)
    j.u32(200)
    if reason is None:
        j.u8(1)
    else:
        j.u8(0)
        j.bytes_(reason)
    j.u32(1)
    j.u32(1)
    j.u8(len(headers))
    for n, v in headers:
        j.bytes_(n)
        j.bytes_(v)
    j.u8(2)
    j.cstr(b'192.0.2.1')
    j.cstr(b'2001:db8::1')
    j.u8(1)
    j.cstr(b'cdn.example.net')
    j.ms(ms if dns else None)
    j.ms(raw_ms if raw_ms is not None else ms)
    j.ms(ms)
    j.ms(ms)
    j.ms(ms)
    if tls is None:
        j.u8(1)
    else:
        j.u8(0)
        j.cstr(b'TLSv1.3')
        j.cstr(b'TLS_AES_128_GCM_SHA256')
        j.cstr(b'h2')
        j.u8(tls.get('verified', 0))
        j.u32(tls.get('code', 18))
        j.cstr(b'self-signed certificate')
        j.cstr(tls.get('subject', b'CN=example.com'))
        j.cstr(b'CN=Test CA')
        san = tls.get('san', [b'example.com'])
        j.u8(len(san))
        for s in san:
            j.bytes_(s)
        j.u8(0)                     # san_len given
        j.cstr(b'0a1b2c')
        j.cstr(b'2026-01-01T00:00:00Z')
        j.cstr(b'2027-01-01T00:00:00Z')
        j.u32(tls.get('days', 120))
        j.cstr(b'ab' * 32)
        j.cstr(b'cd' * 32)
        j.u32(2)
    j.u8(len(hops))
    for url, status, loc in hops:
        j.cstr(url)
        j.u32(status)
        j.bytes_(loc)
        j.cstr(b'192.0.2.1')
        j.ms(ms)
    if error is None:
        j.error()
        j.cstr(None)
    else:
        j.error(*error)
        j.cstr(b'detail with "quotes" and \\ and \x01')
    if fallback is None:
        j.error()
        j.cstr(None)
    else:
        j.error(fallback)
        j.cstr(b'connection refused')
    return j.b


def json_seeds():
    seeds = {
        'plain': json_result(headers=[(b'Server', b'nginx'),
                                      (b'Content-Type', b'text/html')]),
        'odd-bytes': json_result(
            inp=b'ex\x00am\xffple\x1b',
            reason=b'\x80\xc3\xa4\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82',
            headers=[(b'X-Nul', b'a\x00b'), (b'\xff\xfe', b'\x7f\t\r\n"\\'),
                     (b'', b''), (b'U', b'\xf0\x9f\x98\x80\xc0\xaf')]),
        'tls': json_result(tls={'san': [b'a.test', b'b\x00.test', b'\xff'],
                                'subject': b'CN=\xc3\xa4,O="x"'}),
        'tls-verified': json_result(tls={'verified': 1, 'days': -5}),
        'hops': json_result(hops=[(b'http://a/', 301, b'https://a/'),
                                  (None, 302, b'/\x00\xff')]),
        'error': json_result(error=(70,), reason=None, dns=False),
        'unknown-error': json_result(error=(None, 0xdeadbeef)),
        'fallback': json_result(fallback=100),
        'no-dns': json_result(dns=False),
        'big-ms': json_result(raw_ms=struct.pack('>d', 1e300)),
        'nan-ms': json_result(raw_ms=b'\x7f\xf8' + bytes(6)),
        'inf-ms': json_result(raw_ms=b'\x7f\xf0' + bytes(6)),
        'zeros': bytes(600),
        'ones': b'\xff' * 600,
    }
    for name, data in seeds.items():
        write('json', name, data)


# ---- redirects (fuzz-redirect.c: sel, base line, '\n', Location) ----

def redirect_seeds():
    rfc_base = b'http://a/b/c/d;p?q'
    refs = [b'g', b'./g', b'g/', b'/g', b'//g', b'?y', b'g?y', b'#s',
            b'g#s', b';x', b'.', b'./', b'..', b'../', b'../g', b'../..',
            b'../../g', b'../../../g', b'/./g', b'/../g', b'g.', b'.g',
            b'g..', b'..g', b'./../g', b'./g/.', b'g/./h', b'g/../h',
            b'g;x=1/./y', b'g;x=1/../y', b'g?y/./x', b'g#s/../x']
    for i, ref in enumerate(refs):
        write('redirect', 'rfc-%02d' % i, b'\x00' + rfc_base + b'\n' + ref)
    others = {
        'abs-https': (0, b'example.com', b'https://other.example/x'),
        'abs-ftp': (0, b'example.com', b'ftp://example.com/'),
        'javascript': (0, b'example.com', b'javascript:alert(1)'),
        'net-path': (1, b'example.com', b'//evil.example/x'),
        'userinfo': (0, b'example.com', b'http://user@evil.example/'),
        'upper-scheme': (0, b'example.com', b'HTTP://X.EXAMPLE'),
        'ipv6-abs': (0, b'example.com', b'http://[::1]:99/p'),
        'ipv6-base': (0, b'[::1]:8080/p?q', b'../x'),
        'https-base': (0, b'https://h/x?y', b'?z'),
        'port-base': (1, b'h:443', b'x/y'),
        'query-base': (0, b'h?q', b'g'),
        'one-slash': (0, b'example.com', b'http:/x'),
        'backslashes': (0, b'example.com', b'\\\\evil.example\\x'),
        'slash-backslash': (0, b'example.com', b'/\\evil.example'),
        'spaces': (0, b'example.com', b'/a b c'),
        'nul': (0, b'example.com', b'/a\x00b'),
        'utf8': (0, b'example.com', b'/\xc3\xa4\xff'),
        'empty': (0, b'example.com', b''),
        'long': (0, b'example.com', b'/' + b'a' * 5000),
        'small-buffer': (40, b'example.com', b'../very/long/path/here'),
        'tiny-buffer': (2, b'example.com', b'g'),
        'dot-frag': (0, b'http://a/b/c/d', b'./.#x'),
        'bad-base': (0, b'not a target', b'g'),
    }
    for name, (sel, base, ref) in others.items():
        write('redirect', name, bytes([sel]) + base + b'\n' + ref)


# ---- security-header audit (fuzz-audit.c: flags, then per header a
# selector, a 2-byte value length, the value) ----

AUDIT_NAMES = ['Strict-Transport-Security', 'Content-Security-Policy',
               'Content-Security-Policy-Report-Only',
               'X-Content-Type-Options', 'X-Frame-Options',
               'Referrer-Policy', 'Permissions-Policy', 'Set-Cookie',
               'Server']


def audit(headers, https=1):
    b = bytes([https])
    for name, value in headers:
        upper = name.startswith('^')
        name = name.lstrip('^')
        if name in AUDIT_NAMES:
            b += bytes([AUDIT_NAMES.index(name) | (16 if upper else 0)])
        else:
            raw = name.encode('latin-1')
            b += bytes([15, len(raw)]) + raw
        b += struct.pack('>H', len(value)) + value
    return b


def audit_seeds():
    hsts, csp = 'Strict-Transport-Security', 'Content-Security-Policy'
    xcto, xfo = 'X-Content-Type-Options', 'X-Frame-Options'
    rp, pp, ck = 'Referrer-Policy', 'Permissions-Policy', 'Set-Cookie'
    seeds = {
        'all-ok': [(hsts, b'max-age=31536000; includeSubDomains; preload'),
                   (csp, b"default-src 'self'; frame-ancestors 'none'"),
                   (xcto, b'nosniff'), (xfo, b'DENY'),
                   (rp, b'strict-origin-when-cross-origin'),
                   (pp, b'geolocation=(), camera=(self "https://a.example")'),
                   (ck, b'sid=1; Secure; HttpOnly; SameSite=Lax')],
        'none': [('Server', b'x')],
        'hsts-quoted': [('^' + hsts, b'MAX-AGE="31536000"')],
        'hsts-dup': [(hsts, b'max-age=1; max-age=2')],
        'hsts-zero': [(hsts, b'max-age=0'), (hsts, b'max-age=5')],
        'hsts-odd': [(hsts, b'max-age=1; x="a;\\"b"; \x00\xff')],
        'csp-multi': [(csp, b'default-src a, frame-ancestors b'),
                      (csp, b''), (csp + '-Report-Only', b'x')],
        'xfo-conflict': [(xfo, b'DENY'), (xfo, b'SAMEORIGIN')],
        'xfo-quoted': [(xfo, b'"DENY, x'), (xfo, b'y"')],
        'xfo-allow-from': [(xfo, b'ALLOW-FROM https://a.example')],
        'rp-list': [(rp, b'foo, no-referrer, , unsafe-url'),
                    (rp, b'origin')],
        'rp-bad-token': [(rp, b'no-referrer, a_b')],
        'pp-all-types': [(pp, b'a=1, b=-1.5, c="s\\"", d=tok:/x, '
                              b'e=:aGk=:, f=?1, g=(1 "x" y);p=1, h;q=?0')],
        'pp-split-lines': [(pp, b'a=("x'), (pp, b'y")')],
        'pp-open': [(pp, b'geolocation=(')],
        'pp-long-number': [(pp, b'a=1234567890123456, b=1.2345')],
        'cookies': [(ck, b'a=1'), (ck, b'b=1; HttpOnly; SameSite=None'),
                    (ck, b'c=1; Secure; HttpOnly; SameSite=None'),
                    (ck, b'novalue'), (ck, b'\x01,\xff"\\=1; secure'),
                    (ck, b'x' * 100 + b'=1')],
        'cookies-many': [(ck, b'cookie%02d%s=v' % (i, b'0' * 30))
                         for i in range(30)],
        'raw-names': [('strict-transport-security\x00', b'max-age=1'),
                      ('', b''), ('set-cookie ', b'a=1')],
    }
    for name, headers in seeds.items():
        write('audit', name, audit(headers))
    write('audit', 'over-http', audit([(hsts, b'max-age=10')], https=0))
    write('audit', 'empty', b'')


# ---- HTTP/2 server bytes (fuzz-h2.c: a mode byte, then chunks each a
# length byte and that many bytes) ----

def h2_frame(ftype, flags, stream, payload):
    return (struct.pack('>I', len(payload))[1:] + bytes([ftype, flags]) +
            struct.pack('>I', stream) + payload)


def hpack_lit(name, value):
    """A literal field without indexing, new name, no Huffman."""
    assert len(name) < 127 and len(value) < 127
    return bytes([0, len(name)]) + name + bytes([len(value)]) + value


def h2_chunks(data, size=200):
    out = b''
    for i in range(0, len(data), size):
        piece = data[i:i + size]
        out += bytes([len(piece)]) + piece
    return out


def h2_seeds():
    settings = h2_frame(4, 0, 0, struct.pack('>HI', 3, 100) +
                        struct.pack('>HI', 4, 65535) +
                        struct.pack('>HI', 5, 16384))
    wu = h2_frame(8, 0, 0, struct.pack('>I', 983041))
    ack = h2_frame(4, 1, 0, b'')
    status200 = b'\x88'                     # :status 200, static index 8
    fields = (hpack_lit(b'server', b'x') +
              hpack_lit(b'content-type', b'text/html') +
              hpack_lit(b'x-dup', b'1') + hpack_lit(b'x-dup', b'2'))
    body = b'<html><title>h2 &amp; fuzz</title></html>'
    head = h2_frame(1, 4, 1, status200 + fields)          # END_HEADERS
    data = h2_frame(0, 1, 1, body)                       # END_STREAM
    normal = settings + wu + ack + head + data
    for mode, name in ((0, 'normal'), (4, 'normal-body'),
                       (4 | 8, 'body-cut'), (1 | 2 | 4, 'small-caps')):
        write('h2', name, bytes([mode]) + h2_chunks(normal))
    write('h2', 'normal-bytewise', bytes([4]) + h2_chunks(normal, 1))
    # interim 103 then 200; trailers after the body
    early = h2_frame(1, 4, 1, b'\x00\x07:status\x03103' +
                     hpack_lit(b'link', b'</a>'))
    trailer = h2_frame(1, 5, 1, hpack_lit(b'x-trailer', b't'))
    write('h2', 'interim-trailers', bytes([4]) + h2_chunks(
        settings + early + head + h2_frame(0, 0, 1, body) + trailer))
    # the head over HEADERS + CONTINUATION
    write('h2', 'continuation', bytes([4]) + h2_chunks(
        settings + h2_frame(1, 0, 1, status200 + fields[:10]) +
        h2_frame(9, 0, 1, fields[10:20]) + h2_frame(9, 4, 1, fields[20:]) +
        data))
    write('h2', 'goaway', bytes([0]) + h2_chunks(
        settings + h2_frame(7, 0, 0, struct.pack('>II', 0, 11) + b'bye')))
    write('h2', 'rst', bytes([0]) + h2_chunks(
        settings + h2_frame(3, 0, 1, struct.pack('>I', 2))))
    write('h2', 'rst-in-body', bytes([4]) + h2_chunks(
        settings + head + h2_frame(0, 0, 1, body[:10]) +
        h2_frame(3, 0, 1, struct.pack('>I', 8))))
    write('h2', 'ping-flood', bytes([0]) + h2_chunks(
        settings + h2_frame(6, 0, 0, b'12345678') * 300))
    write('h2', 'settings-flood', bytes([0]) + h2_chunks(
        settings + h2_frame(4, 0, 0, struct.pack('>HI', 1, 4096)) * 300))
    write('h2', 'cont-flood', bytes([0]) + h2_chunks(
        settings + h2_frame(1, 0, 1, status200) +
        h2_frame(9, 0, 1, hpack_lit(b'a', b'b')) * 100))
    write('h2', 'http11', bytes([0]) + h2_chunks(
        b'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'))
    write('h2', 'no-status', bytes([0]) + h2_chunks(
        settings + h2_frame(1, 5, 1, fields)))
    # an empty name and value before any other: no arena yet (UBSan)
    write('h2', 'empty-field', bytes([0]) + h2_chunks(
        settings + h2_frame(1, 5, 1, hpack_lit(b'', b'') + status200)))
    write('h2', 'bad-status', bytes([0]) + h2_chunks(
        settings + h2_frame(1, 5, 1, b'\x00\x07:status\x0220')))


# ---- proxy replies and URLs (fuzz-proxy.c: a selector byte, 0 HTTP
# CONNECT reply, 1 SOCKS5 reply, 2 URL [LF no_proxy]) ----

def proxy_seeds():
    http = [b'HTTP/1.1 200 Connection established\r\n\r\n',
            b'HTTP/1.0 200 OK\r\nProxy-Agent: x\r\n\r\nextra',
            b'HTTP/1.1 407 Proxy Authentication Required\r\n'
            b'Proxy-Authenticate: Basic realm="x"\r\n\r\n',
            b'HTTP/1.1 200\n\n', b'hello\r\n\r\n', b'HTTP/1.1 20',
            b'HTTP/1.1 502 Bad Gateway\r\n' + b'X: y\r\n' * 50 + b'\r\n']
    for i, h in enumerate(http):
        write('proxy', 'http-%d' % i, b'\x00' + h)
    socks = [b'\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38',
             b'\x05\x00\x00\x04' + b'\x00' * 16 + b'\x00\x50',
             b'\x05\x00\x00\x03\x09localhost\x00\x50',
             b'\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00',
             b'\x05\x01\x00\x09', b'\x04\x5a', b'\x05\x00\x01\x01']
    for i, s in enumerate(socks):
        write('proxy', 'socks-%d' % i, b'\x01' + s)
    urls = [b'http://127.0.0.1:3128', b'socks5://alice:s%33cret@[::1]:1080',
            b'socks5h://10.0.0.1\n*.example.com,.corp,10.0.0.0/8,::1/128',
            b'http://u:p@127.0.0.1/', b'HTTP://127.0.0.1:0',
            b'socks5://[::1', b'http://a%zz:b@1.2.3.4']
    for i, u in enumerate(urls):
        write('proxy', 'url-%d' % i, b'\x02' + u)
    # the text after LF is also one --exclude entry (netset.c, strict)
    entries = [b'10.0.0.0/8', b'::ffff:192.0.2.0/120', b'.Example.COM.',
               b'10.0.0.300', b'fd00::/129', b'*', b'a..b', b'0.0.0.0/0']
    for i, e in enumerate(entries):
        write('proxy', 'exclude-%d' % i, b'\x02http://127.0.0.1\n' + e)


# ---- ServerHellos (fuzz-hello.c: the handshake message) ----

HRR_RANDOM = bytes.fromhex('cf21ad74e59a6111be1d8c021e65b891'
                           'c2a211167abb8c5e079e09e2c8a8339c')


def server_hello(version, cipher, exts, random=b'\x11' * 32, sid=32):
    body = struct.pack('>H', version) + random + bytes([sid]) + \
        b'\x22' * sid + struct.pack('>HB', cipher, 0)
    if exts is not None:
        e = b''.join(struct.pack('>HH', t, len(d)) + d for t, d in exts)
        body += struct.pack('>H', len(e)) + e
    return b'\x02' + struct.pack('>I', len(body))[1:] + body


def hello_seeds():
    alpn = b'\x00\x09\x08http/1.1'
    ks = b'\x00\x1d\x00\x20' + b'\x33' * 32
    hellos = {
        'tls12': server_hello(0x0303, 0xc02f, [
            (0xff01, b'\x00'), (0, b''), (11, b'\x03\x00\x01\x02'),
            (35, b''), (16, alpn), (23, b'')]),
        'tls13': server_hello(0x0303, 0x1301, [(51, ks), (43, b'\x03\x04')]),
        'hrr': server_hello(0x0303, 0x1302, [(43, b'\x03\x04'),
                                             (51, b'\x00\x17')],
                            random=HRR_RANDOM),
        'spec-ja4s': server_hello(0x0303, 0xc030, [
            (5, b''), (23, b''), (0xff01, b'\x00'), (0, b'')]),
        'no-ext': server_hello(0x0303, 0x002f, None),
        'empty-ext': server_hello(0x0303, 0x002f, []),
        'alpn-hex': server_hello(0x0303, 0xc02f, [
            (16, b'\x00\x05\x04\x30\xab\xcd\x31')]),
        'many-ext': server_hello(0x0303, 0xc02f,
                                 [(0x1000 + i, b'') for i in range(40)]),
        'sid-0': server_hello(0x0301, 0x0035, [(0xff01, b'\x00')], sid=0),
    }
    for name, m in hellos.items():
        write('hello', name, m)


# ---- hscan-exporter's configuration (fuzz-exp-config.c: a YAML file) ----

EXP_MODULE = b"""  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
"""


def exp_config_seeds():
    seeds = {
        'minimal': b'modules:\n' + EXP_MODULE,
        'every-key': b"""modules:
  every:
    prober: http
    timeout: 1m30s
    interval: 2m
    targets: [a.test, "https://b.test:8443/x"]
    http:
      valid_status_codes: [200, 301]
      valid_http_versions: ["HTTP/1.1", "HTTP/2.0"]
      method: POST
      headers:
        Host: x.test
        X-A: "b"
      body: "a=b"
      no_follow_redirects: true
      fail_if_ssl: false
      fail_if_not_ssl: true
      basic_auth:
        username: u
        password: p
      proxy_url: http://127.0.0.1:3128
      preferred_ip_protocol: ip6
      ip_protocol_fallback: false
      tls_config:
        ca_file: ca.pem
        cert_file: c.pem
        key_file: k.pem
        server_name: s.test
        insecure_skip_verify: true
        min_version: TLS12
      fail_if_body_matches_regexp: ["error", "(?i)fail"]
      fail_if_body_not_matches_regexp:
        - "<title>[^<]*</title>"
      fail_if_header_matches:
        - {header: Server, regexp: "^old", allow_missing: true}
      fail_if_header_not_matches:
        - header: Content-Type
          regexp: "^text/"
        - {header: X-Id, regexp: ".", allow_missing: true}
""",
        'flow': b'{modules: {m: {prober: http, http: {headers: {A: b}}}}}',
        'anchors': b'modules:\n  a: &m {prober: http}\n  b: *m\n',
        'unknown-key': b'modules:\n  m:\n    prober: http\n    http:\n'
                       b'      methd: GET\n',
        'regex-key': b'modules:\n  m:\n    prober: http\n    http:\n'
                     b'      fail_if_header_matches: [{header: a}]\n',
        'bad-regex': b'modules:\n  m:\n    prober: http\n    http:\n'
                     b'      fail_if_body_matches_regexp: ["(a+)+$", '
                     b'"a(b"]\n',
        'bad-yaml': b'modules: [\n',
        'durations': b'modules:\n  m:\n    prober: http\n'
                     b'    timeout: 1y2w3d4h5m6s7ms\n',
    }
    for name, data in seeds.items():
        write('exp-config', name, data)


# ---- scrape requests (fuzz-exp-req.c: a split byte, then the bytes) ----

def exp_req_seeds():
    probe = (b'GET /probe?target=http%3A%2F%2Fa.test%2F&module=http_2xx '
             b'HTTP/1.1\r\nHost: x\r\n'
             b'X-Prometheus-Scrape-Timeout-Seconds: 9.5\r\n\r\n')
    seeds = {
        'probe': b'\x80' + probe,
        'pipelined': b'\x20GET /-/healthy HTTP/1.1\r\n\r\n' + probe +
                     b'GET /probe?target=a+b&module= HTTP/1.0\r\n\r\n',
        'body': b'\x10POST /-/reload HTTP/1.1\r\nContent-Length: 3\r\n'
                b'\r\nabc',
        'chunked': b'\x10POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n'
                   b'\r\n0\r\n\r\n',
        'big-head': b'\xffGET / HTTP/1.1\r\nX: ' + b'a' * 9000 +
                    b'\r\n\r\n',
        'many-fields': b'\x40GET / HTTP/1.1\r\n' + b'a:b\r\n' * 120 +
                       b'\r\n',
        'bad-percent': b'\x00GET /probe?target=%4&module=%zz%41 HTTP/1.1'
                       b'\r\n\r\n',
        'tls-hello': b'\x05\x16\x03\x01\x02\x00\x01\x00',
    }
    for name, data in seeds.items():
        write('exp-req', name, data)


# ---- content decoding (fuzz-decode.c: codings byte, cap byte, split
# seed byte, then the coded body) ----

def decode_head(codes):
    """The first byte that makes fuzz-decode.c pick `codes` (0 gzip,
    1 deflate, 2 br; in the order applied)."""
    for v in range(256):
        if 1 + v % 3 == len(codes) and all(
                ((v // 3) >> (2 * i)) % 3 == c for i, c in enumerate(codes)):
            return bytes([v])
    raise ValueError(codes)


def decode_seeds():
    import zlib

    def z(bits, data):
        c = zlib.compressobj(9, zlib.DEFLATED, bits)
        return c.compress(data) + c.flush()
    page = (b"<html><title>seed</title>" +
            b"".join(b"<p>%d</p>" % i for i in range(50)) + b"</html>")
    seeds = {
        'gzip': ([0], b"\x40\x07", z(31, page)),
        'deflate-zlib': ([1], b"\x40\x07", z(15, page)),
        'deflate-raw': ([1], b"\x40\x07", z(-15, page)),
        'gzip-members': ([0], b"\x40\x09",
                         z(31, page) + z(31, page) + b"\r\n"),
        'gzip-deflate': ([0, 1], b"\x40\x0b", z(15, z(31, page))),
        'bomb-gzip': ([0], b"\x10\x05", z(31, b"\0" * (4 << 20))),
    }
    # br, gzip-br and bomb-br were made the same way with brotli's
    # encoder (quality 5, window 22), which Python does not have.
    for name, (codes, rest, body) in seeds.items():
        write('decode', name, decode_head(codes) + rest + body)


# ---- matchers (fuzz-match.c: selector 0 range, 1 time, 2 pattern NUL
# body) ----

def match_seeds():
    seeds = {
        'range-0': b'\x00<500', 'range-1': b'\x00100-200',
        'range-2': b'\x00>=7', 'time-0': b'\x01>1.5s',
        'time-1': b'\x01200ms-2s', 'time-2': b'\x01<=0.25',
        # the catastrophic pattern: its runs end at the match limit
        'pattern-0': b'\x02(a+)+$\x00' + b'a' * 40 + b'b',
        'pattern-1': b'\x02(?<v>[0-9]+)\x00a1b22c333',
        'pattern-2': b'\x02(\x00x',
        'pattern-3': b'\x02\x00' + b'x' * 100,
        'pattern-4': b'\x02.\x00' + b'y' * 5000,
    }
    for name, data in seeds.items():
        write('match', name, data)


if __name__ == '__main__':
    target_seeds()
    http_seeds()
    dns_seeds()
    json_seeds()
    redirect_seeds()
    audit_seeds()
    h2_seeds()
    proxy_seeds()
    hello_seeds()
    exp_config_seeds()
    exp_req_seeds()
    decode_seeds()
    match_seeds()
