# bash completion for hscan-cli                     -*- shell-script -*-
# Installed as share/bash-completion/completions/hscan-cli.

_hscan_cli()
{
    local cur prev
    COMPREPLY=()
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}

    local opts="--concurrency --timeout --dns-timeout --connect-timeout
        --read-timeout --method --path --header --user-agent --resolver
        --max-header-bytes --max-headers --output --quiet --help --version
        --scheme --follow --tls-timeout --ca-file --insecure --rate --burst
        --max-per-ip --dns-rate --dns-cache --resume --shard --body-bytes
        --audit --strict --progress --no-progress --match-status --filter-status
        --match-header --match-error --only-ok --ports --format --fields
        --http1.1 --http2 --h2c --proxy --no-proxy --proxy-timeout
        --user --data --data-file --exclude --retries --source-ip
        --paths --all-ips --hash --favicon
        --prefer-ipv4 --prefer-ipv6 --attempt-delay
        --tls-chain
        --sni --no-sni --tls-min --tls-max --ciphers --ciphersuites --curves
        --cert --key
        --compressed
        --match-string --filter-string --match-regex --filter-regex
        --filter-header --match-length --filter-length --match-words
        --filter-words --match-lines --filter-lines --match-time
        --filter-time --extract
        -c -X -H -A -u -d -o -f -q -4 -6 -h -V -k"
    local fields="id input url scheme host ip port status reason
        http_version content_type content_length title body_sha256 server
        location redirects final_url tls_version tls_cipher tls_verified
        tls_subject tls_issuer tls_san tls_not_after tls_days_left
        tls_sha256 addresses cnames dns_ms connect_ms tls_ms ttfb_ms
        total_ms error error_detail fallback_error audit_passed
        audit_missing anomalies path header:"
    local errors="invalid_target dns_nxdomain dns_servfail dns_refused
        dns_timeout dns_no_address dns_failed connect_refused
        connect_timeout connect_unreachable connect_reset source_unusable
        resource_exhausted tls_handshake tls_cert_invalid tls_timeout
        tls_plaintext_reply tls_alert write_failed read_timeout read_closed
        read_reset http_parse header_too_large too_many_headers
        too_many_redirects timeout canceled h2_not_negotiated h2_goaway
        h2_rst_stream h2_protocol_error proxy_unreachable proxy_refused
        proxy_auth_failed proxy_target_unreachable proxy_protocol_error
        proxy_timeout excluded"

    case $cur in
    --help=*)
        COMPREPLY=( $(compgen -P --help= -W "input report filter output
            request tls speed dns limits examples" -- "${cur#--help=}") )
        return ;;
    esac
    case $prev in
    -f|--format)
        COMPREPLY=( $(compgen -W "json csv table" -- "$cur") ); return ;;
    --scheme)
        COMPREPLY=( $(compgen -W "https-first http https both" -- "$cur") )
        return ;;
    -X|--method)
        COMPREPLY=( $(compgen -W "GET HEAD POST OPTIONS" -- "$cur") )
        return ;;
    --fields)
        # a comma list: complete the last name
        local done= last=$cur
        case $cur in *,*) done=${cur%,*},; last=${cur##*,} ;; esac
        COMPREPLY=( $(compgen -P "$done" -W "$fields" -- "$last") )
        compopt -o nospace 2>/dev/null
        return ;;
    --match-error)
        COMPREPLY=( $(compgen -W "$errors" -- "$cur") ); return ;;
    --hash)
        local done= last=$cur
        case $cur in *,*) done=${cur%,*},; last=${cur##*,} ;; esac
        COMPREPLY=( $(compgen -P "$done" -W "sha256 md5 mmh3" -- "$last") )
        compopt -o nospace 2>/dev/null
        return ;;
    --exclude)
        # a list of the user's own, or @FILE
        case $cur in
        @*) COMPREPLY=( $(compgen -P @ -f -- "${cur#@}") ) ;;
        esac
        return ;;
    -o|--output|--resume|--ca-file|--data-file|--paths|--cert|--key)
        COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
    -c|--concurrency|--timeout|--dns-timeout|--connect-timeout|\
    --read-timeout|--path|-H|--header|-A|--user-agent|--resolver|\
    --max-header-bytes|--max-headers|--follow|--tls-timeout|--rate|\
    --burst|--max-per-ip|--dns-rate|--dns-cache|--shard|--body-bytes|\
    --match-status|--filter-status|--match-header|--ports|-u|--user|\
    -d|--data|--attempt-delay|--sni|--ciphers|--ciphersuites|--curves|\
    --match-string|--filter-string|--match-regex|--filter-regex|\
    --filter-header|--match-length|--filter-length|--match-words|\
    --filter-words|--match-lines|--filter-lines|--match-time|\
    --filter-time|--extract)
        return ;;                           # a value of the user's own
    --tls-min|--tls-max)
        COMPREPLY=( $(compgen -W "1.0 1.1 1.2 1.3" -- "$cur") ); return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
        return
    fi
    COMPREPLY=( $(compgen -f -- "$cur") )
}
complete -o filenames -F _hscan_cli hscan-cli
