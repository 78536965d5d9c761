#!/usr/bin/env bash
# Debian's chromium (browser tests, benchmark), ffmpeg (fixtures, native reference), espeak-ng (the synthetic
# podcast episodes' speech) and fluidsynth with the FluidR3 GM soundfont (known-stem songs for separation);
# never a Playwright download.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/ffmpeg ] || need+=(ffmpeg)
[ -x /usr/bin/espeak-ng ] || need+=(espeak-ng)
[ -x /usr/bin/fluidsynth ] || need+=(fluidsynth)
[ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || need+=(fluid-soundfont-gm)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-chromium: ${need[*]} missing and not root; install them with: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "ensure-chromium: installing ${need[*]} from Debian" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
