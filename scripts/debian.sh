# Sourced by the scripts that need Debian packages: `debian_install <package>...` installs them,
# reading the package lists again only when the install fails (a fresh machine's lists can be
# stale or empty), and says what it installs.
debian_install() {
  echo "installing $* from Debian"
  apt-get install -y -qq "$@" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$@" >/dev/null; }
}
