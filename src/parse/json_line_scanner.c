// The JSON line scanner behind src/parse/json_block_reader.ts, compiled to WebAssembly by
// scripts/build_wasm.ts (clang --target=wasm32 with SIMD, no libc) into
// json_line_scanner_wasm.ts. It cuts a block of complete lines (valid UTF-8, which the caller
// checked) and, for each, decides whether the line is a JSON object that the slow path
// (JSON.parse, recordFromObject, the json formatter) would read into a record whose fields
// JSON.stringify writes back byte for byte: then it reports where the record's parts are.
// Any other line is left to the slow path, so this code never has to be right about a line it
// does not take: only about every line it takes.

#include <wasm_simd128.h>

typedef unsigned char u8;
typedef int i32;
typedef unsigned int u32;
typedef long long i64;

#define MAX_LINES 4096
#define STRIDE 22
#define MAX_DEPTH 24
#define MAX_KEYS 32
#define MAX_SEGMENTS 5

// Output slots per line.
enum {
  S_START, S_END, S_STATUS, S_LEVEL, S_LOGGER_START, S_LOGGER_END, S_MESSAGE_START,
  S_MESSAGE_END, S_FLAGS, S_SEGMENTS, S_SEGMENT0,
  // Where the line starts and ends in the block's UTF-16 text (after the segments' 10 slots).
  S_UNITS_START = S_SEGMENT0 + 2 * MAX_SEGMENTS, S_UNITS_END
};
enum { SLOW = 0, FAST = 1 };
enum {
  F_TIME = 1, F_LEVEL = 2, F_LOGGER = 4, F_MESSAGE = 8, F_LOGGER_ESCAPED = 16,
  F_MESSAGE_ESCAPED = 32, F_LOGGER_SAME = 64, F_MESSAGE_SAME = 128
};

static i32 out[MAX_LINES * STRIDE];
static double times[MAX_LINES];
static i32 consumed, consumedUnits;
extern u8 __heap_base;

__attribute__((export_name("input"))) u8 *input(void) { return &__heap_base; }
__attribute__((export_name("results"))) i32 *results(void) { return out; }
__attribute__((export_name("times"))) double *times_ptr(void) { return times; }
__attribute__((export_name("consumed"))) i32 consumed_bytes(void) { return consumed; }
__attribute__((export_name("consumedUnits"))) i32 consumed_units(void) { return consumedUnits; }

// The block is at the heap's base: a constant address, so reading it loads no pointer.
#define s ((const u8 *)&__heap_base)
static i32 n;  // its length
// Bytes minus UTF-16 units from the current line's start to where the scan is: each
// continuation byte adds one, each 4-byte sequence (two units) takes one back. A part's place
// in the text is its byte offset minus the delta there.
static i32 delta;

static int same(i32 a, i32 b, i32 len) {
  for (i32 i = 0; i < len; i++) if (s[a + i] != s[b + i]) return 0;
  return 1;
}

// A string in JSON.stringify's form from the opening quote at p: returns the index after the
// closing quote, or -1. *escaped is set when it holds an escape.
// Inlined: as a call it made the whole scan about 10% slower (205 against 186 ns a line).
__attribute__((always_inline)) static inline i32 str(i32 p, int *escaped) {
  const u8 *b = s;
  const i32 m = n;
  i32 d = 0;  // this string's share of `delta`, added once at its end
  p++;
  for (;;) {
    // 16 bytes at a time while none of them ends the string or needs a look.
    while (p + 16 <= m) {
      v128_t v = wasm_v128_load(b + p);
      v128_t stop = wasm_v128_or(
        wasm_v128_or(wasm_i8x16_eq(v, wasm_i8x16_splat('"')), wasm_i8x16_eq(v, wasm_i8x16_splat('\\'))),
        wasm_v128_or(wasm_u8x16_lt(v, wasm_i8x16_splat(0x20)), wasm_u8x16_ge(v, wasm_u8x16_splat(0x80))));
      u32 mask = wasm_i8x16_bitmask(stop);
      if (mask == 0) { p += 16; continue; }
      p += __builtin_ctz(mask);
      break;
    }
    if (p >= m) return -1;
    u8 c = b[p];
    if (c == '"') {
      if (d != 0) delta += d;
      return p + 1;
    }
    if (c < 0x20) return -1;
    if (c >= 0x80) {
      // UTF-8, valid (the caller decoded it) and written as it is by JSON.stringify.
      if ((c & 0xc0) == 0x80) d++;
      else if (c >= 0xf0) d--;
      p++;
      continue;
    }
    if (c == '\\') {
      if (p + 1 >= m) return -1;
      u8 e = b[p + 1];
      *escaped = 1;
      if (e == '"' || e == '\\' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
        p += 2;
        continue;
      }
      // JSON.stringify writes \u only as \u00xx (lower-case hex) for a control character
      // without a short escape (and for lone surrogates, which are not taken here).
      if (e != 'u' || p + 5 >= m || b[p + 2] != '0' || b[p + 3] != '0') return -1;
      u8 h = b[p + 4], l = b[p + 5];
      i32 v;
      if (h == '0') v = 0;
      else if (h == '1') v = 16;
      else return -1;
      if (l >= '0' && l <= '9') v += l - '0';
      else if (l >= 'a' && l <= 'f') v += l - 'a' + 10;
      else return -1;
      if (v == 8 || v == 9 || v == 10 || v == 12 || v == 13) return -1;
      p += 6;
      continue;
    }
    p++;
  }
}

static int digit(u8 c) { return c >= '0' && c <= '9'; }

// A number as JavaScript prints it: returns the index after it, or -1. Integers of at most 15
// digits (exact in a double, printed as written; not -0); decimals without an exponent, with
// at most 15 significant digits, no trailing zero and at least 1e-6 (printed as written by
// the shortest round trip, since two such decimals never share a double).
static i32 num(i32 p) {
  i32 start = p;
  if (s[p] == '-') p++;
  if (p >= n || !digit(s[p])) return -1;
  i32 intStart = p;
  if (s[p] == '0') p++;
  else while (p < n && digit(s[p])) p++;
  i32 intDigits = p - intStart;
  if (p < n && (s[p] == 'e' || s[p] == 'E')) return -1;
  if (p < n && s[p] == '.') {
    p++;
    i32 fracStart = p;
    while (p < n && digit(s[p])) p++;
    i32 fracDigits = p - fracStart;
    if (fracDigits == 0 || s[p - 1] == '0') return -1;
    if (p < n && (s[p] == 'e' || s[p] == 'E')) return -1;
    i32 significant;
    if (s[intStart] == '0') {
      i32 zeros = 0;
      while (s[fracStart + zeros] == '0') zeros++;
      if (zeros > 5) return -1;
      significant = fracDigits - zeros;
    } else significant = intDigits + fracDigits;
    if (significant > 15) return -1;
    return p;
  }
  if (intDigits > 15) return -1;
  if (s[start] == '-' && s[intStart] == '0') return -1;
  return p;
}

static i32 value(i32 p, i32 depth);

// Whether the key between a and b (inside its quotes) is taken as a field name: not an array
// index (JavaScript orders those first) and not __proto__.
static int plainKey(i32 a, i32 b) {
  i32 len = b - a;
  if (len == 0) return 1;
  int digits = 1;
  for (i32 i = a; i < b; i++) if (!digit(s[i])) { digits = 0; break; }
  if (digits) return 0;
  if (len == 9 && s[a] == '_' && s[a + 1] == '_' && s[a + 2] == 'p' &&
      s[a + 3] == 'r' && s[a + 4] == 'o' && s[a + 5] == 't' && s[a + 6] == 'o' &&
      s[a + 7] == '_' && s[a + 8] == '_') return 0;
  return 1;
}

// Whether the key [a, b) repeats one of the `count` keys in `keys` (start, end pairs).
static int repeated(const i32 *keys, i32 count, i32 a, i32 b) {
  for (i32 k = 0; k < count; k++) {
    if (keys[2 * k + 1] - keys[2 * k] == b - a && same(keys[2 * k], a, b - a)) return 1;
  }
  return 0;
}

static i32 object(i32 p, i32 depth) {
  if (depth > MAX_DEPTH) return -1;
  i32 keys[2 * MAX_KEYS];
  i32 count = 0;
  p++;
  if (p < n && s[p] == '}') return p + 1;
  for (;;) {
    if (p >= n || s[p] != '"') return -1;
    int escaped = 0;
    i32 q = str(p, &escaped);
    if (q < 0 || q >= n || s[q] != ':') return -1;
    if (!plainKey(p + 1, q - 1) || count == MAX_KEYS || repeated(keys, count, p + 1, q - 1)) {
      return -1;
    }
    keys[2 * count] = p + 1;
    keys[2 * count + 1] = q - 1;
    count++;
    p = value(q + 1, depth + 1);
    if (p < 0 || p >= n) return -1;
    if (s[p] == '}') return p + 1;
    if (s[p] != ',') return -1;
    p++;
  }
}

static i32 array(i32 p, i32 depth) {
  if (depth > MAX_DEPTH) return -1;
  p++;
  if (p < n && s[p] == ']') return p + 1;
  for (;;) {
    p = value(p, depth + 1);
    if (p < 0 || p >= n) return -1;
    if (s[p] == ']') return p + 1;
    if (s[p] != ',') return -1;
    p++;
  }
}

static int word(i32 p, const char *w, i32 len) {
  if (p + len > n) return 0;
  for (i32 i = 0; i < len; i++) if (s[p + i] != (u8)w[i]) return 0;
  return 1;
}

static i32 value(i32 p, i32 depth) {
  if (p >= n) return -1;
  u8 c = s[p];
  int escaped = 0;
  switch (c) {
    case '"': return str(p, &escaped);
    case '{': return object(p, depth);
    case '[': return array(p, depth);
    case 't': return word(p, "true", 4) ? p + 4 : -1;
    case 'f': return word(p, "false", 5) ? p + 5 : -1;
    case 'n': return word(p, "null", 4) ? p + 4 : -1;
    default: return num(p);
  }
}

// Record keys, in the groups recordFromObject reads them by.
enum { K_FIELD, K_TIME, K_LEVEL, K_LOGGER, K_MESSAGE, K_SLOW };

static int is(i32 a, i32 len, const char *w) {
  for (i32 i = 0; i < len; i++) if (w[i] == 0 || s[a + i] != (u8)w[i]) return 0;
  return w[len] == 0;
}

static int classify(i32 a, i32 b) {
  i32 len = b - a;
  switch (len) {
    case 2:
      if (is(a, len, "ts")) return K_TIME;
      break;
    case 3:
      if (is(a, len, "lvl")) return K_LEVEL;
      if (is(a, len, "msg")) return K_MESSAGE;
      break;
    case 4:
      if (is(a, len, "time")) return K_TIME;
      if (is(a, len, "name")) return K_LOGGER;
      break;
    case 5:
      if (is(a, len, "level")) return K_LEVEL;
      if (is(a, len, "error")) return K_SLOW;
      break;
    case 6:
      if (is(a, len, "logger")) return K_LOGGER;
      if (is(a, len, "fields")) return K_SLOW;
      break;
    case 7:
      if (is(a, len, "message")) return K_MESSAGE;
      if (is(a, len, "span_id")) return K_SLOW;
      break;
    case 8:
      if (is(a, len, "severity")) return K_LEVEL;
      if (is(a, len, "trace_id")) return K_SLOW;
      break;
    case 9:
      if (is(a, len, "timestamp")) return K_TIME;
      if (is(a, len, "levelname")) return K_LEVEL;
      break;
    case 10:
      if (is(a, len, "@timestamp")) return K_TIME;
      break;
    case 11:
      if (is(a, len, "logger_name")) return K_LOGGER;
      break;
    case 14:
      if (is(a, len, "parent_span_id")) return K_SLOW;
      break;
  }
  return K_FIELD;
}

static i32 two(i32 p) { return (s[p] - '0') * 10 + (s[p + 1] - '0'); }

static i64 daysFromCivil(i64 y, i32 m, i32 d) {
  // Howard Hinnant's days_from_civil.
  y -= m <= 2;
  i64 era = (y >= 0 ? y : y - 399) / 400;
  i64 yoe = y - era * 400;
  i64 doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  i64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// "YYYY-MM-DDTHH:MM:SS.sssZ" (what toISOString writes for years 0-9999) as epoch ms, from the
// string's content at a (24 characters); returns 0 when it is not such a valid time.
static int isoTime(i32 a, i32 len, double *ms) {
  if (len != 24) return 0;
  static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
  for (i32 i = 0; i < 24; i++) {
    u8 c = s[a + i];
    if (shape[i] == 'd' ? !digit(c) : c != (u8)shape[i]) return 0;
  }
  i32 year = two(a) * 100 + two(a + 2);
  i32 month = two(a + 5), day = two(a + 8);
  i32 hour = two(a + 11), minute = two(a + 14), second = two(a + 17);
  i32 milli = (s[a + 20] - '0') * 100 + two(a + 21);
  static const u8 dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return 0;
  int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > dim[month - 1] + (month == 2 && leap)) return 0;
  i64 days = daysFromCivil(year, month, day);
  *ms = (double)(((days * 24 + hour) * 60 + minute) * 60 + second) * 1000.0 + milli;
  return 1;
}

// A non-negative integer of at most 15 digits at [a, b), as recordFromObject's parseTime reads
// a number (seconds below 1e11, else milliseconds).
static int integer(i32 a, i32 b, i64 *v) {
  if (b - a > 15 || b == a || (s[a] == '0' && b - a > 1)) return 0;
  i64 x = 0;
  for (i32 i = a; i < b; i++) {
    if (!digit(s[i])) return 0;
    x = x * 10 + (s[i] - '0');
  }
  *v = x;
  return 1;
}

static u8 lower(u8 c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static int levelIs(i32 a, i32 len, const char *w) {
  for (i32 i = 0; i < len; i++) if (w[i] == 0 || lower(s[a + i]) != (u8)w[i]) return 0;
  return w[len] == 0;
}

// A level name parseLevel knows (any case; it lower-cases), as its number; -1 otherwise.
static i32 levelNamed(i32 a, i32 len) {
  if (levelIs(a, len, "info")) return 20;
  if (levelIs(a, len, "debug")) return 10;
  if (levelIs(a, len, "warn") || levelIs(a, len, "warning")) return 30;
  if (levelIs(a, len, "error")) return 40;
  if (levelIs(a, len, "trace")) return 5;
  if (levelIs(a, len, "critical") || levelIs(a, len, "fatal")) return 50;
  if (levelIs(a, len, "notset")) return 0;
  return -1;
}

static i32 prevLoggerStart = -1, prevLoggerEnd = -1, prevMessageStart = -1, prevMessageEnd = -1;

// The current line's logger and message content in bytes (its slots hold text offsets).
static i32 loggerBytes[2], messageBytes[2];

// Scans the object at p into the output slots o; returns the index after its closing brace,
// or -1 when the slow path must read the line. (A line end cannot be inside what it takes: LF,
// CR and NUL are neither JSON structure nor allowed raw in a string.)
static i32 line(i32 p, i32 *o, double *time) {
  if (p >= n || s[p] != '{') return -1;
  int status = SLOW;
  i32 close = -1;
  int seen = 0;
  i32 fieldKeys[2 * MAX_KEYS];
  i32 fieldCount = 0;
  i32 segments = 0;
  i32 segmentOpen = -1;
  i32 q = p + 1;
  o[S_LEVEL] = 20;
  o[S_FLAGS] = 0;
  if (q < n && s[q] == '}') {
    status = FAST;
    close = q + 1;
    goto done;
  }
  for (;;) {
    if (q >= n || s[q] != '"') goto done;
    int escaped = 0;
    i32 keyDelta = delta;
    i32 k = str(q, &escaped);
    if (k < 0 || k >= n || s[k] != ':') goto done;
    i32 ka = q + 1, kb = k - 1;
    int kind = escaped ? K_FIELD : classify(ka, kb);
    i32 v = k + 1;
    i32 after;
    if (kind == K_FIELD) {
      if (!plainKey(ka, kb) || fieldCount == MAX_KEYS || repeated(fieldKeys, fieldCount, ka, kb)) {
        goto done;
      }
      fieldKeys[2 * fieldCount] = ka;
      fieldKeys[2 * fieldCount + 1] = kb;
      fieldCount++;
      after = value(v, 1);
      if (after < 0) goto done;
      if (segmentOpen < 0) {
        if (segments == MAX_SEGMENTS) goto done;
        segmentOpen = q - keyDelta;
      }
      o[S_SEGMENT0 + 2 * segments] = segmentOpen;
      o[S_SEGMENT0 + 2 * segments + 1] = after - delta;
    } else {
      if (segmentOpen >= 0) {
        segments++;
        segmentOpen = -1;
      }
      if (kind == K_SLOW) goto done;
      int bit = kind == K_TIME ? F_TIME : kind == K_LEVEL ? F_LEVEL : kind == K_LOGGER ? F_LOGGER : F_MESSAGE;
      if (seen & bit) goto done;  // two keys of one group: the slow path ranks them
      seen |= bit;
      if (v >= n) goto done;
      if (s[v] == '"') {
        int e = 0;
        i32 before = delta;
        after = str(v, &e);
        if (after < 0) goto done;
        i32 a = v + 1, b = after - 1;
        if (kind == K_TIME) {
          if (e || !isoTime(a, b - a, time)) goto done;
        } else if (kind == K_LEVEL) {
          i32 level = e ? -1 : levelNamed(a, b - a);
          if (level < 0) goto done;
          o[S_LEVEL] = level;
        } else if (kind == K_LOGGER) {
          o[S_LOGGER_START] = a - before;
          o[S_LOGGER_END] = b - delta;
          loggerBytes[0] = a;
          loggerBytes[1] = b;
          if (e) o[S_FLAGS] |= F_LOGGER_ESCAPED;
        } else {
          o[S_MESSAGE_START] = a - before;
          o[S_MESSAGE_END] = b - delta;
          messageBytes[0] = a;
          messageBytes[1] = b;
          if (e) o[S_FLAGS] |= F_MESSAGE_ESCAPED;
        }
      } else {
        if (kind != K_TIME && kind != K_LEVEL) goto done;
        after = v;
        while (after < n && digit(s[after])) after++;
        i64 x;
        if (!integer(v, after, &x)) goto done;
        if (kind == K_TIME) *time = x < 100000000000LL ? (double)(x * 1000) : (double)x;
        else {
          if (x > 100) goto done;
          o[S_LEVEL] = (i32)x;
        }
      }
    }
    if (after >= n) goto done;
    if (s[after] == '}') {
      if (segmentOpen >= 0) segments++;
      status = FAST;
      close = after + 1;
      goto done;
    }
    if (s[after] != ',') goto done;
    q = after + 1;
  }
done:
  if (status != FAST) return -1;
  o[S_FLAGS] |= seen;
  o[S_SEGMENTS] = segments;
  return close;
}

static i32 prevLoggerStart, prevLoggerEnd, prevMessageStart, prevMessageEnd;

// Marks a fast line's logger and message when they repeat the previous fast line's.
static void repeats(i32 *o) {
  i32 flags = o[S_FLAGS];
  if (flags & F_LOGGER) {
    i32 a = loggerBytes[0], b = loggerBytes[1];
    if (prevLoggerStart >= 0 && prevLoggerEnd - prevLoggerStart == b - a &&
        same(prevLoggerStart, a, b - a)) o[S_FLAGS] |= F_LOGGER_SAME;
    prevLoggerStart = a;
    prevLoggerEnd = b;
  }
  if (flags & F_MESSAGE) {
    i32 a = messageBytes[0], b = messageBytes[1];
    if (prevMessageStart >= 0 && prevMessageEnd - prevMessageStart == b - a &&
        same(prevMessageStart, a, b - a)) o[S_FLAGS] |= F_MESSAGE_SAME;
    prevMessageStart = a;
    prevMessageEnd = b;
  }
}

// Whether the byte at i ends a line (the block's end does too).
static int stops(i32 i, i32 nul) { return i >= n || s[i] == '\n' || (nul && s[i] == 0); }

// Scans the lines of the input from `from` (`units` in its UTF-16 text) to `len`: each ends at
// LF (or NUL with nul set, or at len) without a trailing CR. Returns the number of lines
// reported (at most MAX_LINES); consumed() says where the next call should start, len when
// every line was reported, and consumedUnits() where that is in the text.
__attribute__((export_name("scan"))) i32 scan(i32 from, i32 len, i32 nul, i32 units) {
  i32 u = units;  // the UTF-16 index of p
  n = len;
  prevLoggerStart = prevLoggerEnd = prevMessageStart = prevMessageEnd = -1;
  i32 p = from, count = 0;
  while (p < len && count < MAX_LINES) {
    i32 *o = out + count * STRIDE;
    delta = 0;
    i32 close = line(p, o, times + count);
    i32 stop = -1, end = -1;
    // A fast line ends right after its object (a CR before the end is dropped as usual).
    if (close >= 0) {
      if (stops(close, nul)) stop = end = close;
      else if (s[close] == '\r' && stops(close + 1, nul)) {
        end = close;
        stop = close + 1;
      }
    }
    if (stop >= 0) {
      o[S_STATUS] = FAST;
      repeats(o);
    } else {
      o[S_STATUS] = SLOW;
      stop = p;
      if (!nul) {
        while (stop + 16 <= len) {
          u32 mask = wasm_i8x16_bitmask(wasm_i8x16_eq(wasm_v128_load(s + stop), wasm_i8x16_splat('\n')));
          if (mask != 0) {
            stop += __builtin_ctz(mask);
            break;
          }
          stop += 16;
        }
      }
      while (!stops(stop, nul)) stop++;
      end = stop > p && s[stop - 1] == '\r' ? stop - 1 : stop;
    }
    o[S_START] = p;
    o[S_END] = end;
    // UTF-8 (valid: the caller decoded it) is one UTF-16 unit per sequence, two for a 4-byte
    // one: a fast line's strings counted theirs in `delta`; another line's are counted here.
    o[S_UNITS_START] = u;
    if (o[S_STATUS] == FAST) u += end - p - delta;
    else {
      for (i32 i = p; i < end; i++) {
        u8 b = s[i];
        u += ((b & 0xc0) != 0x80) + (b >= 0xf0);
      }
    }
    o[S_UNITS_END] = u;
    u += stop + 1 - end;  // a CR and the line end are one unit each
    count++;
    p = stop + 1;
  }
  consumed = p > len ? len : p;
  consumedUnits = p > len ? u - (p - len) : u;
  return count;
}
