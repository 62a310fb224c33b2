# Sourced by the office benchmarks: `csrf PATH` reads a page's CSRF token and
# `staff_sign_in LOGIN PASSWORD TOTP_SECRET` signs a staff member in (password,
# then a TOTP code computed here), both with the cookie jar JAR against BASE;
# `sql STATEMENT` runs SQL on the bench database (psql with DATABASE_URL when
# ENGINE is postgres, Python's sqlite3 on DB otherwise) and prints the rows.
sql() {
    if [ "$ENGINE" = postgres ]; then
        psql "$DATABASE_URL" -Atqc "$1"
    else
        python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for row in c.execute(sys.argv[2]):
    print("|".join(map(str, row)))
c.commit()' "$DB" "$1"
    fi
}
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
