# shellcheck shell=bash
# Boot-level lockdown checks (issue 20, items 3-4), sourced by scripts/check-image-boot:
#
#   lockdown_hold_keys_at_boot QMP SECONDS   keys held and hammered from power-on (boot menu keys),
#                                            in the background; the boot must still reach the kiosk
#   lockdown_checks QMP IMAGE [SERIAL_LOG]   on a booted kiosk: 8x Ctrl+Alt+Del in 2 s, the
#                                            UI toolkit's quit keys, VT switches, SysRq, a held key
#                                            over QMP send-key leave the kiosk on screen (QMP
#                                            screendump before/after) and do not restart it (serial
#                                            log); then the outbox key is unreadable from IMAGE on
#                                            the host (lockdown_sealed_on_disk)
#   lockdown_sealed_on_disk IMAGE            no credential in the clear in IMAGE's root or conf
#                                            partitions, and the outbox key does not open with what
#                                            the disk holds (its own host key and machine id, on the
#                                            conf partition's host/ with provision --image): it needs
#                                            the kiosk's TPM2
#
# Each returns 0 when the check holds, 1 naming what failed. QMP is the path of qemu's QMP socket
# (-qmp unix:PATH,server=on,wait=off). Needs socat (scripts/setup --image-boot), ImageMagick's
# compare, sfdisk, debugfs, unshare and systemd-creds.

lockdown_say() { echo "lockdown: $*" >&2; }

# lockdown_qmp QMP COMMAND-JSON…: runs the commands in one QMP session, prints the replies.
lockdown_qmp() {
  local qmp=$1; shift
  { printf '{"execute":"qmp_capabilities"}\n'; printf '%s\n' "$@"; sleep 1; } |
    socat -t 5 - "UNIX-CONNECT:$qmp"
}

# lockdown_send_key HOLD-MS QCODE…: the QMP command that presses the keys together, held HOLD-MS.
lockdown_send_key() {
  local hold=$1 keys="" k; shift
  for k in "$@"; do keys="$keys${keys:+,}{\"type\":\"qcode\",\"data\":\"$k\"}"; done
  printf '{"execute":"send-key","arguments":{"keys":[%s],"hold-time":%s}}' "$keys" "$hold"
}

# lockdown_key QMP HOLD-MS QCODE…: presses the keys together (a combination), held HOLD-MS.
lockdown_key() {
  local qmp=$1; shift
  lockdown_qmp "$qmp" "$(lockdown_send_key "$@")" >/dev/null
}

# lockdown_hold_keys_at_boot QMP SECONDS: from power-on, the keys that open boot menus and
# editors (systemd-boot: space, arrows, e, d, +, -, t, f, digits; firmware: Esc, F2, F12, Del)
# held (1 s each, space 5 s) and hammered for SECONDS over one QMP session, in the background
# (its PID in $lockdown_boot_keys_pid). Start it right after qemu, with -qmp …,server=on,wait=off.
lockdown_hold_keys_at_boot() {
  local qmp=$1 seconds=$2
  (
    for _ in 1 2 3 4 5 6 7 8 9 10; do [ -S "$qmp" ] && break; sleep 0.2; done
    {
      printf '{"execute":"qmp_capabilities"}\n'
      end=$(( $(date +%s) + seconds ))
      while [ "$(date +%s)" -lt "$end" ]; do
        lockdown_send_key 5000 spc; echo
        for k in esc f2 f12 delete e d t f equal minus up down 1 ret; do
          lockdown_send_key 1000 "$k"; echo
          sleep 0.1
        done
      done
    } | socat -t 2 - "UNIX-CONNECT:$qmp" >/dev/null 2>&1
  ) &
  # shellcheck disable=SC2034  # for the sourcing script, to stop it
  lockdown_boot_keys_pid=$!
}

# lockdown_screen QMP FILE: the guest's screen as a PNG.
lockdown_screen() {
  local qmp=$1 out=$2 ppm="$2.ppm"
  rm -f "$ppm"
  lockdown_qmp "$qmp" "{\"execute\":\"screendump\",\"arguments\":{\"filename\":\"$ppm\"}}" >/dev/null
  local _
  for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$ppm" ] && break; sleep 0.5; done
  convert "$ppm" "$out" 2>/dev/null
}

# lockdown_checks QMP IMAGE [SERIAL_LOG]
lockdown_checks() {
  local qmp=$1 image=$2 log=${3:-} dir before_lines failed=0 differ total
  dir=$(mktemp -d)
  lockdown_screen "$qmp" "$dir/before.png" || { lockdown_say "no screendump over $qmp"; rm -rf "$dir"; return 1; }
  before_lines=0
  [ -z "$log" ] || before_lines=$(wc -l < "$log")
  # Eight in one QMP session: within 2 s, which is what CtrlAltDelBurstAction= counts.
  local burst=() _
  for _ in 1 2 3 4 5 6 7 8; do burst+=("$(lockdown_send_key 50 ctrl alt delete)"); done
  lockdown_qmp "$qmp" "${burst[@]}" >/dev/null
  lockdown_key "$qmp" 100 ctrl alt backspace
  lockdown_key "$qmp" 100 ctrl c
  lockdown_key "$qmp" 100 alt f2
  lockdown_key "$qmp" 100 ctrl alt f2
  lockdown_key "$qmp" 100 ctrl alt f1
  lockdown_key "$qmp" 100 alt f4
  lockdown_key "$qmp" 100 alt sysrq b
  lockdown_key "$qmp" 100 power
  lockdown_key "$qmp" 3000 ctrl alt backspace
  lockdown_key "$qmp" 3000 a
  # A stopped kiosk is restarted 2 s later and draws again within seconds: wait past that.
  sleep 15
  lockdown_screen "$qmp" "$dir/after.png" || { lockdown_say "no screendump after the keys"; failed=1; }
  if [ "$failed" = 0 ]; then
    total=$(identify -format '%w %h' "$dir/before.png")
    total=$(( ${total% *} * ${total#* } ))
    differ=$(compare -metric AE -fuzz 10% "$dir/before.png" "$dir/after.png" /dev/null 2>&1 || true)
    differ=${differ%%.*}
    if [ -z "$differ" ] || [ "$differ" -gt $(( total / 20 )) ]; then
      lockdown_say "the screen changed after the key combinations ($differ of $total pixels; $dir kept)"
      failed=1
    else
      lockdown_say "the kiosk stayed on screen after 8x Ctrl+Alt+Del and the rest ($differ of $total pixels differ)"
    fi
  fi
  if [ -n "$log" ] && tail -n +"$((before_lines + 1))" "$log" |
      grep -E 'kiosk stopped|Stopped hallkiosk|hallkiosk.service: (Main process exited|Scheduled restart)|Rebooting|reboot: Restarting|Started hallkiosk.service'; then
    lockdown_say "the serial log shows the kiosk stopped, restarted or the system rebooting after the keys"
    failed=1
  fi
  lockdown_sealed_on_disk "$image" || failed=1
  [ "$failed" = 1 ] || rm -rf "$dir"
  return "$failed"
}

# lockdown_sealed_on_disk IMAGE: every root slot or conf partition of IMAGE holds its credentials
# only as systemd-creds files, and the outbox key does not open with what the disk holds.
# shellcheck disable=SC2016  # the inner shell expands its own arguments
lockdown_sealed_on_disk() {
  local image=$1 dir failed=0 found=0 start size name
  dir=$(mktemp -d)
  local creds secret_at id_at
  while read -r start size name; do
    # A root provisioned in place, or an image's conf partition (scripts/provision --image).
    case "$name" in
      root-*) creds=/etc/hallkiosk/credentials secret_at=/var/lib/systemd/credential.secret id_at=/etc/machine-id ;;
      conf) creds=/credentials secret_at=/host/credential.secret id_at=/host/machine-id ;;
      *) continue ;;
    esac
    dd if="$image" of="$dir/part" bs=512 skip="$start" count="$size" status=none
    debugfs -R "stat $creds" "$dir/part" 2>/dev/null | grep -q Inode: || continue
    # An image's root slot has the directory empty (a mount point's content, install-units).
    debugfs -R "ls -l $creds" "$dir/part" 2>/dev/null | awk 'NF { print $NF }' |
      grep -qvE '^(\.|\.\.)$' || continue
    found=1
    local plain
    plain=$(debugfs -R "ls -l $creds" "$dir/part" 2>/dev/null |
      awk '{ print $NF }' | grep -Ev '^(\.|\.\.|.*\.cred)$' || true)
    if [ -n "$plain" ]; then
      lockdown_say "$name: credentials in the clear: $plain"
      failed=1
    fi
    debugfs -R "dump $creds/outbox-key.cred $dir/outbox-key.cred" "$dir/part" 2>/dev/null
    debugfs -R "dump -p $secret_at $dir/secret" "$dir/part" 2>/dev/null
    debugfs -R "dump $id_at $dir/machine-id" "$dir/part" 2>/dev/null
    # Whoever has the disk has its host key and its machine id (which systemd binds the host key
    # to): try both, as the kiosk itself would without its TPM2.
    if [ ! -s "$dir/outbox-key.cred" ]; then
      lockdown_say "$name: no sealed outbox key (outbox-key.cred)"
      failed=1
    elif ! grep -qxE '[0-9a-f]{32}' "$dir/machine-id" 2>/dev/null; then
      lockdown_say "$name: no machine id on the disk: the kiosk's host key changes at every boot and its credentials never open"
      failed=1
    elif [ -s "$dir/secret" ] && SYSTEMD_CREDENTIAL_SECRET="$dir/secret" unshare --mount --propagation private \
        sh -c 'mount --bind "$0" /etc/machine-id && exec systemd-creds decrypt --name=outbox-key "$1" "$2"' \
        "$dir/machine-id" "$dir/outbox-key.cred" "$dir/key" 2>/dev/null; then
      lockdown_say "$name: the outbox key opens with the host key on the same disk: sealed to the host key only, not to the kiosk's TPM2"
      failed=1
    else
      lockdown_say "$name: the outbox key does not open from the disk alone"
    fi
    rm -f "$dir/part" "$dir/outbox-key.cred" "$dir/secret" "$dir/key" "$dir/machine-id"
  done < <(sfdisk -d "$image" | sed -nE 's/.*start= *([0-9]+), *size= *([0-9]+),.*name="([^"]*)".*/\1 \2 \3/p')
  rm -rf "$dir"
  if [ "$found" = 0 ]; then
    lockdown_say "no provisioned root slot (/etc/hallkiosk/credentials) or conf partition (/credentials) in $image"
    return 1
  fi
  return "$failed"
}
