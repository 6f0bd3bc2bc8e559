# SPDX-License-Identifier: GPL-2.0-only
# bash completion for ircontain(8).  Keep in step with `ircontain help`:
# tests/e2e/test_docs.sh checks that they name the same commands.

_ircontain()
{
	local cur prev words cword
	_init_completion || return

	local globals="--json --pin-dir --state-dir --cgroup-root --fleet --fleet-prefix --fleet-name --fleet-group --fleet-cert --fleet-key --fleet-ca --verbose --help --version"
	local objects="load unload status quarantine release list allow isolate run events policy incident export verify fleet help version"
	local obj="" verb="" i
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		--pin-dir|--state-dir|--cgroup-root|--fleet|--fleet-prefix|--fleet-name|--fleet-group|--fleet-cert|--fleet-key|--fleet-ca) ((i++)); continue ;;
		-*) continue ;;
		esac
		if [[ -z $obj ]]; then obj=${words[i]}; elif [[ -z $verb ]]; then verb=${words[i]}; fi
	done

	case $prev in
	--pin-dir|--state-dir|--cgroup-root|--policy|--events-file|--file|--fleet-cert|--fleet-key|--fleet-ca)
		_filedir; return ;;
	--output|-o) _filedir 'tar.gz'; return ;;
	--status) COMPREPLY=($(compgen -W "detected triaged contained eradicated recovered closed" -- "$cur")); return ;;
	--severity) COMPREPLY=($(compgen -W "low medium high critical" -- "$cur")); return ;;
	--iface)
		COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur")); return ;;
	--xdp-mode) COMPREPLY=($(compgen -W "auto native generic" -- "$cur")); return ;;
	--direction) COMPREPLY=($(compgen -W "in out both" -- "$cur")); return ;;
	--from-file) _filedir; return ;;
	--action) COMPREPLY=($(compgen -W "deny stop kill" -- "$cur")); return ;;
	--type) COMPREPLY=($(compgen -W "exec fork exit connect accept packet_dropped network_denied events_lost portscan_detected synflood_detected" -- "$cur")); return ;;
	--ttl|--reason|--since|--pid|--allow|--ring-size|--incident|--title|--summary|--pubkey) return ;;
	--fleet|--fleet-prefix|--fleet-name|--fleet-group|--group|--metrics) return ;;
	esac

	if [[ -z $obj ]]; then
		COMPREPLY=($(compgen -W "$objects $globals" -- "$cur")); return
	fi
	case $obj in
	load) COMPREPLY=($(compgen -W "--iface --xdp-mode --ring-size --fail-open" -- "$cur")) ;;
	unload) COMPREPLY=($(compgen -W "--emergency --iface" -- "$cur")) ;;
	quarantine)
		case $verb in
		"") COMPREPLY=($(compgen -W "host pid cgroup" -- "$cur")) ;;
		host) COMPREPLY=($(compgen -W "--from-file --skip-bad --ttl --reason --direction --force --incident" -- "$cur")) ;;
		pid) COMPREPLY=($(compgen -W "--no-children --action --ttl --reason --force --incident" -- "$cur")) ;;
		cgroup) COMPREPLY=($(compgen -W "--ttl --reason --force --incident" -- "$cur")); [[ $cur != -* ]] && _filedir -d ;;
		esac ;;
	release)
		if [[ -z $verb ]]; then COMPREPLY=($(compgen -W "host pid cgroup --all" -- "$cur"))
		elif [[ $verb == host ]]; then COMPREPLY=($(compgen -W "--from-file --skip-bad --reason --incident" -- "$cur"))
		else COMPREPLY=($(compgen -W "--reason --incident" -- "$cur")); fi ;;
	allow) [[ -z $verb ]] && COMPREPLY=($(compgen -W "add del list" -- "$cur")) ;;
	isolate)
		if [[ -z $verb ]]; then COMPREPLY=($(compgen -W "on off status" -- "$cur"))
		elif [[ $verb == on ]]; then COMPREPLY=($(compgen -W "--allow --allow-dns --allow-dhcp --force --reason --incident" -- "$cur"))
		elif [[ $verb == off ]]; then COMPREPLY=($(compgen -W "--reason --incident" -- "$cur")); fi ;;
	run) COMPREPLY=($(compgen -W "--iface --policy --events-file --store-events --store-max-size --store-max-age --metrics" -- "$cur")) ;;
	events) COMPREPLY=($(compgen -W "--follow --since --type --pid --file" -- "$cur")) ;;
	policy) if [[ -z $verb ]]; then COMPREPLY=($(compgen -W "check apply" -- "$cur")); else _filedir; fi ;;
	incident)
		case $verb in
		"") COMPREPLY=($(compgen -W "list show open note status close" -- "$cur")) ;;
		list) COMPREPLY=($(compgen -W "--status" -- "$cur")) ;;
		open) COMPREPLY=($(compgen -W "--title --severity" -- "$cur")) ;;
		close) COMPREPLY=($(compgen -W "--summary" -- "$cur")) ;;
		status)
			# incident status ID STATE: the states after the id.
			[[ ${words[cword - 1]} =~ ^[0-9]+$ ]] &&
				COMPREPLY=($(compgen -W "detected triaged contained eradicated recovered" -- "$cur")) ;;
		esac ;;
	export) COMPREPLY=($(compgen -W "--output --force --new-key" -- "$cur")) ;;
	fleet)
		case $verb in
		"") COMPREPLY=($(compgen -W "quarantine release isolate allow policy list status key trust" -- "$cur")) ;;
		quarantine)
			if [[ ${words[cword - 1]} == quarantine ]]; then COMPREPLY=($(compgen -W "host" -- "$cur"))
			else COMPREPLY=($(compgen -W "--group --ttl --reason --direction" -- "$cur")); fi ;;
		release)
			if [[ ${words[cword - 1]} == release ]]; then COMPREPLY=($(compgen -W "host" -- "$cur"))
			else COMPREPLY=($(compgen -W "--group --reason" -- "$cur")); fi ;;
		isolate)
			if [[ ${words[cword - 1]} == isolate ]]; then COMPREPLY=($(compgen -W "on off" -- "$cur"))
			elif [[ " ${words[*]} " == *" on "* ]]; then
				COMPREPLY=($(compgen -W "--group --allow --allow-dns --allow-dhcp --reason" -- "$cur"))
			else COMPREPLY=($(compgen -W "--group --reason" -- "$cur")); fi ;;
		allow)
			if [[ ${words[cword - 1]} == allow ]]; then COMPREPLY=($(compgen -W "add del" -- "$cur"))
			else COMPREPLY=($(compgen -W "--group --reason" -- "$cur")); fi ;;
		policy)
			if [[ ${words[cword - 1]} == policy ]]; then COMPREPLY=($(compgen -W "apply" -- "$cur"))
			elif [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "--group --reason" -- "$cur"))
			else _filedir 'y?(a)ml'; fi ;;
		trust) [[ ${words[cword - 1]} == trust ]] && COMPREPLY=($(compgen -W "add del list" -- "$cur")) ;;
		esac ;;
	verify) if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "--pubkey --accept-rollback" -- "$cur")); else _filedir 'tar.gz'; fi ;;
	esac
}
complete -F _ircontain ircontain
