# bash completion for hogs(1). Install as
# /usr/share/bash-completion/completions/hogs (make install does).

_hogs() {
    local cur prev
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    case $prev in
        -r|--read)
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        -v|--view)
            COMPREPLY=($(compgen -W '0 1 2 3 4 5' -- "$cur"))
            return ;;
        -P|--pid)
            COMPREPLY=($(compgen -W "$(ls /proc 2>/dev/null | grep -E '^[0-9]+$')" -- "$cur"))
            return ;;
        -d|--delay|-c|--count|-g|-f|--filter|--idle|--listen|--metrics-max-series)
            return ;;
        --docker-root)
            COMPREPLY=($(compgen -d -- "$cur"))
            return ;;
        --metrics-group)
            COMPREPLY=($(compgen -W 'pid process program user container' -- "$cur"))
            return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W '-V --version -h --help -x -t --trace -p --promiscuous
            -s -l -a --all -b -C --udp -d --delay -v --view -c --count -g
            -f --filter -P --pid -r --read --idle --json --connections
            --dump --bench -n --numeric --no-kernel-events --listen --headless
            --metrics-max-series --metrics-group --docker-root' -- "$cur"))
        return
    fi
    COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur"))
}
complete -F _hogs hogs
