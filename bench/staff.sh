# Sourced by the office benchmarks: `csrf PATH` reads a page's CSRF token and
# `staff_sign_in LOGIN PASSWORD TOTP_SECRET` signs a staff member in (password,
# then a TOTP code computed here), both with the cookie jar JAR against BASE.
csrf() { curl -s -b "$JAR" -c "$JAR" "$BASE$1" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1; }
staff_sign_in() {
    curl -s -b "$JAR" -c "$JAR" -o /dev/null --data-urlencode "csrf=$(csrf /staff/login)" \
        --data-urlencode "login=$1" --data-urlencode "password=$2" "$BASE/staff/login"
    local code
    code=$(python3 - "$3" <<'PY'
import base64, hmac, hashlib, struct, sys, time
key = base64.b32decode(sys.argv[1] + "=" * (-len(sys.argv[1]) % 8))
mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
o = mac[-1] & 15
print("%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000))
PY
)
    curl -s -b "$JAR" -c "$JAR" -o /dev/null --data-urlencode "csrf=$(csrf /staff/second-factor)" \
        --data-urlencode "code=$code" "$BASE/staff/second-factor"
}
