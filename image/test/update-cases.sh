#!/usr/bin/env bash
# The update cases tests/image.rs runs inside scripts/rauc-vm: a kiosk running slot a of image v1
# (its RAUC configuration, keyring, handlers and ESP as the image ships them), slots as files, RAUC's
# service on a private D-Bus. Each case prints "CASE name rc=N untouched=yes|no" (slots and ESP
# compared before and after), then RAUC's and the service's words. Files in /work (from the test):
# sysroot/ (from v1's root), esp/ (v1's ESP), slot-size, *.raucb.
set -u
cd /work || exit 2
# /usr/lib and /usr/sbin are links in the VM: copy file by file.
(cd sysroot && find . -type f) | while read -r f; do mkdir -p "/$(dirname "$f")"; cp -p "sysroot/$f" "/$f"; done
mkdir -p /boot/efi /dev/disk/by-partlabel /work/slots /run/hallkiosk /media/usb
# The ESP holds the loader and two kernel images but not three, as a kiosk's does (128 MiB, UKIs
# of ~45 MB): every update after the first must remove the slot's old kernel image before writing
# the new one. Sized from v1's ESP (slot a's UKI in it) plus one and a half UKIs (in 4 KiB pages)
# and four pages for the boot entries.
uki_pages=$(( ($(stat -c %s esp/a/hallkiosk.efi) + 4095) / 4096 ))
uki_kib=$(( uki_pages * 4 ))
esp_kib=$(( $(du -sk esp | cut -f1) + uki_kib * 3 / 2 + 16 ))
mount -t tmpfs -o "size=${esp_kib}k" esp /boot/efi
echo "esp-size ${esp_kib} KiB, kernel image ${uki_kib} KiB"
cp -a esp/. /boot/efi/
for s in a b; do
  truncate -s "$(cat slot-size)" "/work/slots/root-$s"
  ln -s "/work/slots/root-$s" "/dev/disk/by-partlabel/root-$s"
done
echo a > /run/hallkiosk/slot
# A test shim runs before the shipped pre-install handler: it can act between RAUC's signature
# check and the slots being written (an attacker swapping the bundle), then runs the real handler.
cat > /work/shim <<'SHIM'
#!/bin/sh
if [ -f /work/shim.action ]; then sh /work/shim.action; rm -f /work/shim.action; fi
exec /usr/lib/hallkiosk/rauc-pre-install "$@"
SHIM
chmod +x /work/shim
sed -i 's#^pre-install=.*#pre-install=/work/shim#' /etc/rauc/system.conf

dbus-daemon --session --fork --print-address=3 3>/tmp/bus
DBUS_SESSION_BUS_ADDRESS=$(head -1 /tmp/bus)
export DBUS_SESSION_BUS_ADDRESS DBUS_STARTER_BUS_TYPE=session
rauc service --override-boot-slot=a > /tmp/service.log 2>&1 &
for _ in $(seq 1 50); do rauc status >/dev/null 2>&1 && break; sleep 0.2; done

# Any write to a slot file changes its modification and change times (hashing 2 × 80 MiB per case
# would cost seconds under emulation); the ESP is small enough to hash.
state() {
  stat -c '%n %s %b %Y %Z' /work/slots/root-a /work/slots/root-b
  (cd /boot/efi && find . -type f | sort | xargs sha256sum && ls loader/entries)
}
run_case() { # run_case NAME COMMAND...
  local name=$1 before after rc lines
  shift
  before=$(state)
  lines=$(wc -l < /tmp/service.log)
  out=$("$@" 2>&1)
  rc=$?
  sync
  after=$(state)
  if [ "$before" = "$after" ]; then u=yes; else u=no; fi
  echo "CASE $name rc=$rc untouched=$u"
  printf '%s\n' "$out" | sed 's/^/  | /'
  tail -n +"$((lines + 1))" /tmp/service.log | grep -vE 'rauc-Message.*(Checking|Mounting|Unmounting|Loaded|Using)' | sed 's/^/  service: /'
}

run_case other-key rauc install /work/other-key.raucb
run_case truncated rauc install /work/truncated.raucb
run_case modified-byte rauc install /work/modified.raucb
run_case older rauc install /work/older.raucb
run_case same-version rauc install /work/same.raucb
# Changed in place after the signature check: the handler reads the payload through dm-verity.
cp /work/good.raucb /work/inplace.raucb
echo "dd if=/dev/urandom of=/work/inplace.raucb bs=4096 seek=$(( $(stat -c %s /work/good.raucb) / 8192 )) count=4 conv=notrunc 2>/dev/null; sync; echo 3 > /proc/sys/vm/drop_caches; echo shim: changed inplace.raucb in place" > /work/shim.action
run_case swapped-in-place rauc install /work/inplace.raucb

# From a USB stick, through the technicians' wrapper: accepted into slot b.
cp /work/good.raucb /media/usb/hallkiosk.raucb
run_case usb-stick /usr/sbin/hallkiosk-update-slot /media/usb/hallkiosk.raucb
echo "slot-b $(sha256sum < /work/slots/root-b | cut -c1-64)"
echo "uki-b $(sha256sum < /boot/efi/b/hallkiosk.efi | cut -c1-64)"
# shellcheck disable=SC2012 # busybox find has no -printf
echo "entries $(ls /boot/efi/loader/entries | tr '\n' ' ')"
echo "entry-b $(tr '\n' ';' < /boot/efi/loader/entries/hallkiosk-b+3.conf)"
echo "primary $(/usr/lib/hallkiosk/rauc-systemd-boot get-primary)"

# Renamed over after the signature check: RAUC keeps reading the file it opened.
cp /work/good.raucb /work/swap.raucb
cp /work/other-key.raucb /work/evil.raucb
echo "mv -f /work/evil.raucb /work/swap.raucb; echo shim: renamed other-key over swap.raucb" > /work/shim.action
rm -f /work/slots/root-b && truncate -s "$(cat slot-size)" /work/slots/root-b
run_case swapped-by-rename rauc install /work/swap.raucb
echo "slot-b-after-swap $(sha256sum < /work/slots/root-b | cut -c1-64)"

# The running slot on trial: the other slot is its fallback.
mv /boot/efi/loader/entries/hallkiosk-a.conf /boot/efi/loader/entries/hallkiosk-a+2-1.conf
run_case running-on-trial rauc install /work/good.raucb
mv /boot/efi/loader/entries/hallkiosk-a+2-1.conf /boot/efi/loader/entries/hallkiosk-a.conf

# The drop directory: the sync daemon's (uid 1000) file, installed by root and removed.
mkdir -p /var/lib/hallkiosk/update
cp /work/good.raucb /var/lib/hallkiosk/update/hallkiosk.raucb
chown -R 1000:1000 /var/lib/hallkiosk/update
run_case drop-dir /usr/sbin/hallkiosk-update-slot --drop /var/lib/hallkiosk/update/hallkiosk.raucb
echo "drop-left $(find /var/lib/hallkiosk/update -type f | wc -l)"
echo "uki-b-at-last $(sha256sum < /boot/efi/b/hallkiosk.efi | cut -c1-64)"
echo "esp-free-kib $(df -k /boot/efi | awk 'NR == 2 { print $4 }')"
echo "status $(rauc status 2>&1 | tr '\n' ';')"
