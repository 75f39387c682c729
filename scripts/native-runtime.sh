#!/usr/bin/env bash
# Makes TorchSharp-cpu 0.107.0 loadable on hosts whose libstdc++ is too old.
#
# Why: libLibTorchSharp.so needs GLIBCXX_3.4.32 / CXXABI_1.3.13 (GCC 13+), but
# e.g. Debian 12 ships GCC 12's libstdc++. The dotnet host already links the
# system libstdc++ at start, so a newer one must be found via LD_LIBRARY_PATH
# before the process starts (see scripts/env.sh). We fetch Debian 13's
# libstdc++6 into <repo>/.native/lib and patch its one glibc 2.38 dependency
# (__isoc23_strtoul) onto a tiny shim, so it runs on glibc 2.36.
# The system's own libstdc++ is never touched.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NATIVE=$ROOT/.native
LIB=$NATIVE/lib
PKG=libstdc++6
VER=14.2.0-19        # Debian 13 (trixie)
SUITE=trixie
STAMP=$NATIVE/.stamp-$PKG-$VER

say() { echo "native-runtime: $*"; }
die() { echo "native-runtime: ERROR: $*" >&2; exit 1; }

# 1. Nothing to do if the system libstdc++ is new enough (grep on the binary:
#    `strings | grep -q` would SIGPIPE under pipefail).
SYS=$(ldconfig -p | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')
if [[ -n $SYS ]] && grep -qF GLIBCXX_3.4.32 "$SYS" && grep -qF CXXABI_1.3.13 "$SYS"; then
  say "system libstdc++ ($SYS) already has GLIBCXX_3.4.32; nothing to do"
  exit 0
fi

# 2. Idempotent: the stamp is written only after a successful, verified build.
if [[ -f $STAMP && -e $LIB/libstdc++.so.6 ]]; then
  say "already set up in $LIB"
  exit 0
fi

# The patch below hard-codes x86-64's glibc base version (GLIBC_2.2.5).
[[ $(dpkg --print-architecture 2>/dev/null) == amd64 ]] \
  || die "only Debian/amd64 is supported (need dpkg, amd64); cannot provide GLIBCXX_3.4.32 here"
command -v apt-get >/dev/null || die "apt-get missing; cannot fetch $PKG $VER"
command -v gcc >/dev/null || die "gcc missing (needed to build the shim and ELF patcher)"
if ! command -v patchelf >/dev/null; then
  say "installing patchelf"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq patchelf >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null && apt-get install -y -qq patchelf >/dev/null; } \
    || die "could not install patchelf (apt-get install patchelf)"
fi

rm -rf "$NATIVE"
# On any failure drop lib/ so env.sh never puts a half-patched libstdc++ on the path.
trap '[[ -f $STAMP ]] || rm -rf "$LIB"' EXIT
mkdir -p "$LIB" "$NATIVE/apt/lists/partial" "$NATIVE/apt/cache/archives/partial" "$NATIVE/apt/empty" "$NATIVE/pkg"

# 3. Mirror + keyring come from the machine's own apt config (no host names in
#    the repo). Prefer the first deb822 stanza, fall back to one-line format.
MIRROR=$(awk '/^URIs:/ && !/security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[[ -n $MIRROR ]] || MIRROR=$(awk '$1=="deb" && !/security/ {for(i=2;i<=NF;i++) if ($i ~ /:\/\//) {print $i; exit}}' /etc/apt/sources.list 2>/dev/null || true)
[[ -n $MIRROR ]] || die "no Debian mirror found in /etc/apt/sources.list{,.d/*.sources}"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -f $KEYRING ]] || die "missing $KEYRING (package debian-archive-keyring)"
echo "deb [signed-by=$KEYRING] $MIRROR $SUITE main" > "$NATIVE/apt/sources.list"

# Private sources/state/cache so the system's apt setup is left untouched;
# sandbox user root because _apt cannot write into the repo folder.
APT=(apt-get -qq
  -o Dir::Etc::SourceList="$NATIVE/apt/sources.list"
  -o Dir::Etc::SourceParts="$NATIVE/apt/empty"
  -o Dir::Etc::PreferencesParts="$NATIVE/apt/empty"
  -o Dir::State::Lists="$NATIVE/apt/lists"
  -o Dir::Cache="$NATIVE/apt/cache"
  -o APT::Sandbox::User=root
  -o Acquire::Languages=none)
say "fetching $PKG $VER from $MIRROR ($SUITE)"
"${APT[@]}" update >/dev/null || die "apt-get update of $SUITE from $MIRROR failed (network or mirror?)"
(cd "$NATIVE/pkg" && "${APT[@]}" download "$PKG=$VER" >/dev/null) \
  || die "could not download $PKG=$VER from $MIRROR $SUITE"
dpkg -x "$NATIVE"/pkg/*.deb "$NATIVE/pkg/root"
SO=$(find "$NATIVE/pkg/root" -path '*/lib/*' -name 'libstdc++.so.6.0.[0-9]*' ! -name '*.py' -type f | head -1)
[[ -n $SO ]] || die "no libstdc++.so.6.0.* inside the $PKG package"
cp "$SO" "$LIB/"
SO=$LIB/$(basename "$SO")
ln -sf "$(basename "$SO")" "$LIB/libstdc++.so.6"

# 4. Shim: glibc < 2.38 lacks __isoc23_strtoul (C23 strtoul; it differs only
#    by accepting "0b" prefixes, irrelevant for libstdc++'s uses).
say "building shim and patching $(basename "$SO")"
cat > "$NATIVE/isoc23shim.c" <<'EOF'
#include <stdlib.h>
unsigned long __isoc23_strtoul(const char *s, char **end, int base) { return strtoul(s, end, base); }
EOF
gcc -O2 -shared -fPIC -o "$LIB/libisoc23shim.so" "$NATIVE/isoc23shim.c"

# 5. ELF tool: the loader rejects any Vernaux naming a version libc lacks, even
#    unused, so retarget the GLIBC_2.38 requirement to GLIBC_2.2.5 (x86-64 base).
#    "check" mode dlopens the result with RTLD_NOW to verify it resolves.
cat > "$NATIVE/elfver.c" <<'EOF'
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
static unsigned long elf_hash(const char *s) {
  unsigned long h = 0, g;
  while (*s) { h = (h << 4) + (unsigned char)*s++; if ((g = h & 0xf0000000)) h ^= g >> 24; h &= ~g; }
  return h;
}
int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "check")) {
    if (!dlopen(argv[2], RTLD_NOW)) { fprintf(stderr, "%s\n", dlerror()); return 1; }
    return 0;
  }
  if (argc != 4) { fprintf(stderr, "usage: elfver FILE FROM_VER TO_VER | check FILE\n"); return 2; }
  int fd = open(argv[1], O_RDWR); struct stat st;
  if (fd < 0 || fstat(fd, &st)) { perror(argv[1]); return 1; }
  unsigned char *b = mmap(0, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (b == MAP_FAILED) { perror("mmap"); return 1; }
  Elf64_Ehdr *eh = (Elf64_Ehdr *)b; Elf64_Shdr *sh = (Elf64_Shdr *)(b + eh->e_shoff);
  for (int i = 0; i < eh->e_shnum; i++) {
    if (sh[i].sh_type != SHT_GNU_verneed) continue;
    Elf64_Shdr *strs = &sh[sh[i].sh_link];
    const char *str = (const char *)b + strs->sh_offset;
    long to = -1;   /* offset of TO_VER in .dynstr (must already exist there) */
    for (size_t o = 0; o < strs->sh_size; o += strlen(str + o) + 1)
      if (!strcmp(str + o, argv[3])) { to = o; break; }
    if (to < 0) { fprintf(stderr, "%s not in .dynstr\n", argv[3]); return 1; }
    int n = 0; unsigned char *p = b + sh[i].sh_offset;
    for (;;) {
      Elf64_Verneed *vn = (Elf64_Verneed *)p; unsigned char *q = p + vn->vn_aux;
      for (int k = 0; k < vn->vn_cnt; k++) {
        Elf64_Vernaux *va = (Elf64_Vernaux *)q;
        if (!strcmp(str + va->vna_name, argv[2])) { va->vna_name = to; va->vna_hash = elf_hash(argv[3]); n++; }
        q += va->vna_next;
      }
      if (!vn->vn_next) break;
      p += vn->vn_next;
    }
    msync(b, st.st_size, MS_SYNC);
    printf("retargeted %d %s -> %s\n", n, argv[2], argv[3]);
    return n ? 0 : 1;
  }
  fprintf(stderr, "no .gnu.version_r\n"); return 1;
}
EOF
gcc -O2 -o "$NATIVE/elfver" "$NATIVE/elfver.c" -ldl

# Order: patchelf first (it may move sections), then the in-place Vernaux edit.
patchelf --clear-symbol-version __isoc23_strtoul "$SO"
# Separate calls: patchelf 0.14 (Debian 12) corrupts RUNPATH when both are in one call.
patchelf --add-needed libisoc23shim.so "$SO"
patchelf --set-rpath '$ORIGIN' "$SO"
"$NATIVE/elfver" "$SO" GLIBC_2.38 GLIBC_2.2.5 >/dev/null
"$NATIVE/elfver" check "$SO" || die "patched $SO still does not load"
grep -qF GLIBCXX_3.4.32 "$SO" || die "$SO lacks GLIBCXX_3.4.32"

rm -rf "$NATIVE/pkg" "$NATIVE/apt"   # ~10 MB of apt indexes, not needed any more
touch "$STAMP"
say "done: $LIB (source scripts/env.sh before running dotnet)"
