#!/usr/bin/env bash
# What `npm test` needs from the system beyond Node and npm, installed when it is missing (npm's pretest runs
# this), so that `npm ci && npm test` is the whole set-up on a fresh Debian/Ubuntu machine:
#   chromium                    the browser tests (e2e/); CHROMIUM_PATH=<executable> brings your own instead
#   curl, jq, file              the README's HTTP session, run word for word by server/api/http.test.ts
#   redis-server                the scale-out tests (BullMQ queue, workers); each test starts its own on 127.0.0.1
#   libvulkan1, mesa-vulkan-drivers
#                               the ncnn programs (realesrgan/realcugan/waifu2x-ncnn-vulkan) that the model
#                               reference tests compare the converted models with, on Mesa's CPU Vulkan (lavapipe)
# Missing packages are installed with apt-get as root, or through sudo when it needs no password; otherwise
# this says what to install and fails, before any test runs.
set -euo pipefail

missing=()
for tool in curl jq file redis-server; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ -n "${CHROMIUM_PATH:-}" ]; then
  if [ ! -x "$CHROMIUM_PATH" ]; then
    echo "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file: point it at a Chromium, or unset it to use Debian's" >&2
    exit 1
  fi
elif ! command -v chromium >/dev/null 2>&1; then
  missing+=(chromium)
fi
ldconfig_list=$( (ldconfig -p || /sbin/ldconfig -p) 2>/dev/null || true)
grep -q 'libvulkan\.so\.1' <<<"$ldconfig_list" || missing+=(libvulkan1)
compgen -G '/usr/share/vulkan/icd.d/lvp_icd*.json' >/dev/null || missing+=(mesa-vulkan-drivers)

[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "npm test needs: ${missing[*]} (Debian package names); this is not a Debian/Ubuntu system: install their equivalents" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "npm test needs these Debian packages: ${missing[*]}. Install them with:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing the Debian packages the tests need: ${missing[*]}"
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
