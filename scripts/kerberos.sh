# MIT Kerberos, a system package the ADFS Integrated (Kerberos) test needs: its KDC tools to
# start a realm on 127.0.0.1, and the GSSAPI library to link the `kerberos` feature against.
# Sourced by scripts/test (which runs the test) and .ci/run (which installs the packages).

kerberos_packages=(krb5-kdc krb5-admin-server krb5-user libkrb5-dev)

# True when the tools (looked for where the test looks: PATH, /usr/sbin, /sbin) and the
# library's development link (libgssapi_krb5.so, from libkrb5-dev) are installed.
kerberos_installed() {
  PATH="$PATH:/usr/sbin:/sbin" command -v krb5kdc >/dev/null \
    && PATH="$PATH:/usr/sbin:/sbin" command -v kadmin.local >/dev/null \
    && ldconfig -p 2>/dev/null | grep -q 'libgssapi_krb5\.so '
}

# Installs the packages with apt-get (as root, through sudo when not root), non-interactively,
# so that krb5-config does not wait for an answer about the default realm (the test writes its
# own krb5.conf); fails unless they are then installed.
install_kerberos() {
  local as_root=(env DEBIAN_FRONTEND=noninteractive)
  [ "$(id -u)" -eq 0 ] || as_root=(sudo "${as_root[@]}")
  "${as_root[@]}" apt-get update -q
  "${as_root[@]}" apt-get install -y -q "${kerberos_packages[@]}"
  kerberos_installed || {
    echo "error: MIT Kerberos is still missing after apt-get" >&2
    return 1
  }
}
