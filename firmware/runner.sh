#!/bin/sh
# cargo's runner for thumbv7em-none-eabihf (see .cargo/config.toml): the
# `board` binary is flashed with probe-rs and its defmt log printed; any other
# binary (`qemu`) runs in QEMU through `cargo xtask qemu --elf`, which decodes
# the defmt log in-process. Extra arguments after `--` go to that command.
set -eu
elf="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
shift
here="$(cd "$(dirname "$0")" && pwd)"
case "$(basename "$elf")" in
board)
    if ! command -v probe-rs >/dev/null 2>&1; then
        echo "runner: probe-rs is not installed; see the README's Firmware section" >&2
        exit 127
    fi
    exec probe-rs run --chip STM32F411CEUx "$elf" "$@"
    ;;
*)
    cd "$here/.."
    exec cargo xtask qemu --elf "$elf" "$@"
    ;;
esac
