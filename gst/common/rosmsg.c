/* membound: ROS1 message-definition parser and serialized-message walker.
 *
 * Plain C (no GLib, no GStreamer). See include/membound/rosmsg.h for the
 * contract and docs/rosmsg.md for the accepted grammar.
 *
 * Parsing works in two steps: the definition text is first split into
 * blocks (the root text, then one block per "MSG: pkg/Type" after a "===="
 * separator line); then types are built on demand starting from the root,
 * resolving nested type names against the blocks. Only types reachable from
 * the root are parsed. Each block carries a state (unvisited, in progress,
 * done) so a reference back to a type still being built is a recursion loop.
 *
 * The walker is recursive, but its depth is bounded by the schema's nesting
 * depth (at most MAX_DEPTH, checked at parse time), and every count read
 * from the data is checked against the bytes that remain before anything is
 * visited: a count whose minimum byte need exceeds what is left is rejected.
 * A step budget proportional to the data size (times the nesting depth)
 * bounds walks over types that serialize to zero bytes (empty messages).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <membound/rosmsg.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64
/* Anything bigger than this is not a ROS message (and avoids overflow). */
#define SIZE_CAP ((uint64_t) 1 << 48)
#define MAX_NAME 256
#define MAX_BLOCKS 4096

typedef struct _Type Type;

/* The public struct comes first so a const MbRosMsgType * can be cast back. */
struct _Type
{
  MbRosMsgType pub;
  uint64_t min_size;            /* minimum wire size, capped at SIZE_CAP */
  int fixed;                    /* wire size is constant (== min_size) */
  int depth;                    /* 1 + max nesting depth of message fields */
};

typedef struct
{
  char *name;                   /* "pkg/Type" */
  const char *text;             /* body, not NUL-terminated */
  size_t len;
  int state;                    /* 0 unvisited, 1 in progress, 2 done */
  Type *type;
} Block;

struct _MbRosSchema
{
  Block *blocks;
  size_t n_blocks;
  Type *root;
  int has_header;
};

typedef struct
{
  MbRosSchema *s;
  char *err;
  size_t err_len;
} Parser;

static void
set_err (char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format (printf, 3, 4)));

static void
set_err (char *err, size_t err_len, const char *fmt, ...)
{
  va_list ap;

  if (!err || !err_len)
    return;
  va_start (ap, fmt);
  vsnprintf (err, err_len, fmt, ap);
  va_end (ap);
}

static char *
dup_range (const char *s, size_t n)
{
  char *r = malloc (n + 1);

  if (!r)
    return NULL;
  if (n)
    memcpy (r, s, n);
  r[n] = '\0';
  return r;
}

static int
is_space (char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int
is_alpha (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit (char c)
{
  return c >= '0' && c <= '9';
}

static int
is_ident_char (char c)
{
  return is_alpha (c) || is_digit (c) || c == '_';
}

/* Trims [*b, *e) of surrounding white space. */
static void
trim (const char **b, const char **e)
{
  while (*b < *e && is_space (**b))
    (*b)++;
  while (*e > *b && is_space ((*e)[-1]))
    (*e)--;
}

static const struct
{
  const char *name;
  MbRosPrimitive type;
} builtins[] = {
  {"bool", MB_ROS_BOOL},
  {"int8", MB_ROS_INT8},
  {"uint8", MB_ROS_UINT8},
  {"int16", MB_ROS_INT16},
  {"uint16", MB_ROS_UINT16},
  {"int32", MB_ROS_INT32},
  {"uint32", MB_ROS_UINT32},
  {"int64", MB_ROS_INT64},
  {"uint64", MB_ROS_UINT64},
  {"float32", MB_ROS_FLOAT32},
  {"float64", MB_ROS_FLOAT64},
  {"string", MB_ROS_STRING},
  {"time", MB_ROS_TIME},
  {"duration", MB_ROS_DURATION},
  /* deprecated aliases */
  {"char", MB_ROS_UINT8},
  {"byte", MB_ROS_INT8},
};

static int
lookup_builtin (const char *s, size_t n, MbRosPrimitive * out)
{
  size_t i;

  for (i = 0; i < sizeof (builtins) / sizeof (builtins[0]); i++) {
    if (strlen (builtins[i].name) == n && memcmp (builtins[i].name, s, n) == 0) {
      *out = builtins[i].type;
      return 1;
    }
  }
  return 0;
}

size_t
mb_ros_primitive_size (MbRosPrimitive type)
{
  switch (type) {
    case MB_ROS_BOOL:
    case MB_ROS_INT8:
    case MB_ROS_UINT8:
      return 1;
    case MB_ROS_INT16:
    case MB_ROS_UINT16:
      return 2;
    case MB_ROS_INT32:
    case MB_ROS_UINT32:
    case MB_ROS_FLOAT32:
      return 4;
    case MB_ROS_INT64:
    case MB_ROS_UINT64:
    case MB_ROS_FLOAT64:
    case MB_ROS_TIME:
    case MB_ROS_DURATION:
      return 8;
    case MB_ROS_STRING:
    case MB_ROS_MESSAGE:
    default:
      return 0;
  }
}

const char *
mb_ros_primitive_name (MbRosPrimitive type)
{
  switch (type) {
    case MB_ROS_BOOL:
      return "bool";
    case MB_ROS_INT8:
      return "int8";
    case MB_ROS_UINT8:
      return "uint8";
    case MB_ROS_INT16:
      return "int16";
    case MB_ROS_UINT16:
      return "uint16";
    case MB_ROS_INT32:
      return "int32";
    case MB_ROS_UINT32:
      return "uint32";
    case MB_ROS_INT64:
      return "int64";
    case MB_ROS_UINT64:
      return "uint64";
    case MB_ROS_FLOAT32:
      return "float32";
    case MB_ROS_FLOAT64:
      return "float64";
    case MB_ROS_STRING:
      return "string";
    case MB_ROS_TIME:
      return "time";
    case MB_ROS_DURATION:
      return "duration";
    case MB_ROS_MESSAGE:
      return "message";
    default:
      return "unknown";
  }
}

/* ------------------------------------------------------------------------ */
/* Step 1: split the text into blocks. */

/* Returns 1 when [b, e) (trimmed) is a separator line: only '=', at least 3. */
static int
is_separator (const char *b, const char *e)
{
  const char *p;

  trim (&b, &e);
  if (e - b < 3)
    return 0;
  for (p = b; p < e; p++)
    if (*p != '=')
      return 0;
  return 1;
}

static int
valid_type_name (const char *s, size_t n)
{
  /* pkg/Type or Type: identifier characters and at most one '/' */
  size_t i, slashes = 0;

  if (n == 0 || n > MAX_NAME || !is_alpha (s[0]))
    return 0;
  for (i = 0; i < n; i++) {
    if (s[i] == '/') {
      if (++slashes > 1 || i + 1 == n || !is_alpha (s[i + 1]))
        return 0;
    } else if (!is_ident_char (s[i])) {
      return 0;
    }
  }
  return 1;
}

static int
add_block (Parser * ps, const char *name, size_t name_len, const char *text,
    size_t len)
{
  MbRosSchema *s = ps->s;
  Block *nb;

  if (s->n_blocks >= MAX_BLOCKS) {
    set_err (ps->err, ps->err_len, "more than %d MSG: blocks", MAX_BLOCKS);
    return -1;
  }
  nb = realloc (s->blocks, (s->n_blocks + 1) * sizeof (Block));
  if (!nb) {
    set_err (ps->err, ps->err_len, "out of memory");
    return -1;
  }
  s->blocks = nb;
  nb = &s->blocks[s->n_blocks];
  memset (nb, 0, sizeof (*nb));
  nb->name = dup_range (name, name_len);
  if (!nb->name) {
    set_err (ps->err, ps->err_len, "out of memory");
    return -1;
  }
  nb->text = text;
  nb->len = len;
  s->n_blocks++;
  return 0;
}

static int
split_blocks (Parser * ps, const char *type_name, const char *def, size_t len)
{
  const char *p = def, *end = def + len;
  const char *body = def;
  const char *name = type_name;
  size_t name_len = strlen (type_name);
  int expect_msg = 0;
  unsigned line_no = 0;

  while (p < end) {
    const char *nl = memchr (p, '\n', (size_t) (end - p));
    const char *le = nl ? nl : end;
    const char *b = p, *e = le;

    line_no++;
    if (expect_msg) {
      trim (&b, &e);
      if (b == e) {
        p = nl ? nl + 1 : end;
        continue;
      }
      if (e - b < 4 || memcmp (b, "MSG:", 4) != 0) {
        set_err (ps->err, ps->err_len,
            "line %u: expected \"MSG: pkg/Type\" after a separator line",
            line_no);
        return -1;
      }
      b += 4;
      trim (&b, &e);
      if (!valid_type_name (b, (size_t) (e - b)) || !memchr (b, '/',
              (size_t) (e - b))) {
        set_err (ps->err, ps->err_len,
            "line %u: invalid message type name \"%.*s\" after MSG:", line_no,
            (int) (e - b > 64 ? 64 : e - b), b);
        return -1;
      }
      name = b;
      name_len = (size_t) (e - b);
      body = nl ? nl + 1 : end;
      expect_msg = 0;
    } else if (is_separator (b, e)) {
      if (add_block (ps, name, name_len, body, (size_t) (p - body)) < 0)
        return -1;
      expect_msg = 1;
    }
    p = nl ? nl + 1 : end;
  }
  if (expect_msg) {
    set_err (ps->err, ps->err_len,
        "definition ends after a separator line without a MSG: block");
    return -1;
  }
  return add_block (ps, name, name_len, body, (size_t) (end - body));
}

/* ------------------------------------------------------------------------ */
/* Step 2: build types. */

static void
type_free (Type * t)
{
  size_t i;

  if (!t)
    return;
  for (i = 0; i < t->pub.n_fields; i++)
    free (t->pub.fields[i].name);
  free (t->pub.fields);
  free (t->pub.name);
  free (t);
}

static uint64_t
sat_add (uint64_t a, uint64_t b)
{
  uint64_t r = a + b;
  return (r < a || r > SIZE_CAP) ? SIZE_CAP : r;
}

static uint64_t
sat_mul (uint64_t a, uint64_t b)
{
  if (a == 0 || b == 0)
    return 0;
  if (a > SIZE_CAP / b)
    return SIZE_CAP;
  return a * b;
}

static Type *build_type (Parser * ps, size_t block_idx, int depth);

static Block *
find_block (MbRosSchema * s, const char *name, size_t n, size_t *idx)
{
  size_t i;

  for (i = 0; i < s->n_blocks; i++) {
    if (strlen (s->blocks[i].name) == n && memcmp (s->blocks[i].name, name,
            n) == 0) {
      *idx = i;
      return &s->blocks[i];
    }
  }
  return NULL;
}

/* Resolves a non-builtin type name used inside block @ctx. */
static int
resolve (Parser * ps, const Block * ctx, const char *tn, size_t tl,
    size_t *idx)
{
  MbRosSchema *s = ps->s;
  char buf[2 * MAX_NAME + 2];
  const char *slash;
  size_t i, pl;

  if (memchr (tn, '/', tl))
    return find_block (s, tn, tl, idx) ? 0 : -1;

  if (tl == 6 && memcmp (tn, "Header", 6) == 0)
    return find_block (s, "std_msgs/Header", 15, idx) ? 0 : -1;

  /* same package as the enclosing message first */
  slash = strchr (ctx->name, '/');
  if (slash) {
    pl = (size_t) (slash - ctx->name);
    if (pl + 1 + tl < sizeof (buf)) {
      memcpy (buf, ctx->name, pl + 1);
      memcpy (buf + pl + 1, tn, tl);
      if (find_block (s, buf, pl + 1 + tl, idx))
        return 0;
    }
  }
  /* then any block with that short name */
  for (i = 0; i < s->n_blocks; i++) {
    const char *sn = strchr (s->blocks[i].name, '/');
    sn = sn ? sn + 1 : s->blocks[i].name;
    if (strlen (sn) == tl && memcmp (sn, tn, tl) == 0) {
      *idx = i;
      return 0;
    }
  }
  return -1;
}

/* Parses one field line "type name" into @f. Returns 0, or -1 with err set. */
static int
parse_field (Parser * ps, Block * blk, unsigned line_no, const char *b,
    const char *e, MbRosField * f, Type * owner, int depth)
{
  const char *tb = b, *te, *nb, *ne, *ab = NULL;
  MbRosPrimitive prim;
  uint64_t elem_min = 0;
  int elem_fixed = 1;

  te = tb;
  while (te < e && !is_space (*te))
    te++;
  nb = te;
  while (nb < e && is_space (*nb))
    nb++;
  ne = nb;
  while (ne < e && !is_space (*ne))
    ne++;
  if (nb == ne || ne != e) {
    set_err (ps->err, ps->err_len,
        "%s line %u: expected \"type name\", got \"%.*s\"", blk->name,
        line_no, (int) (e - b > 80 ? 80 : e - b), b);
    return -1;
  }
  if (!is_alpha (*nb) || (size_t) (ne - nb) > MAX_NAME) {
    set_err (ps->err, ps->err_len, "%s line %u: invalid field name \"%.*s\"",
        blk->name, line_no, (int) (ne - nb > 64 ? 64 : ne - nb), nb);
    return -1;
  }
  for (const char *q = nb; q < ne; q++) {
    if (!is_ident_char (*q)) {
      set_err (ps->err, ps->err_len,
          "%s line %u: invalid field name \"%.*s\"", blk->name, line_no,
          (int) (ne - nb > 64 ? 64 : ne - nb), nb);
      return -1;
    }
  }

  /* array suffix */
  f->array_len = MB_ROS_NOT_ARRAY;
  ab = memchr (tb, '[', (size_t) (te - tb));
  if (ab) {
    const char *q = ab + 1;
    uint64_t n = 0;

    if (te[-1] != ']') {
      set_err (ps->err, ps->err_len, "%s line %u: malformed array type \"%.*s\"",
          blk->name, line_no, (int) (te - tb > 64 ? 64 : te - tb), tb);
      return -1;
    }
    if (q == te - 1) {
      f->array_len = MB_ROS_VAR_ARRAY;
    } else {
      for (; q < te - 1; q++) {
        if (!is_digit (*q) || n > 0x7fffffff) {
          set_err (ps->err, ps->err_len,
              "%s line %u: malformed array length in \"%.*s\"", blk->name,
              line_no, (int) (te - tb > 64 ? 64 : te - tb), tb);
          return -1;
        }
        n = n * 10 + (uint64_t) (*q - '0');
      }
      if (n == 0 || n > 0x7fffffff) {
        set_err (ps->err, ps->err_len,
            "%s line %u: array length must be between 1 and 2^31-1 in \"%.*s\"",
            blk->name, line_no, (int) (te - tb > 64 ? 64 : te - tb), tb);
        return -1;
      }
      f->array_len = (int32_t) n;
    }
    te = ab;
  }
  if (te == tb) {
    set_err (ps->err, ps->err_len, "%s line %u: missing type name", blk->name,
        line_no);
    return -1;
  }

  f->name = dup_range (nb, (size_t) (ne - nb));
  if (!f->name) {
    set_err (ps->err, ps->err_len, "out of memory");
    return -1;
  }

  if (lookup_builtin (tb, (size_t) (te - tb), &prim)) {
    f->type = prim;
    f->msg = NULL;
    if (prim == MB_ROS_STRING) {
      elem_min = 4;
      elem_fixed = 0;
    } else {
      elem_min = mb_ros_primitive_size (prim);
    }
  } else {
    size_t idx;
    Type *sub;

    if (!valid_type_name (tb, (size_t) (te - tb))) {
      set_err (ps->err, ps->err_len, "%s line %u: invalid type name \"%.*s\"",
          blk->name, line_no, (int) (te - tb > 64 ? 64 : te - tb), tb);
      return -1;
    }
    if (resolve (ps, blk, tb, (size_t) (te - tb), &idx) < 0) {
      set_err (ps->err, ps->err_len,
          "%s line %u: unknown type \"%.*s\" (no MSG: block defines it)",
          blk->name, line_no, (int) (te - tb), tb);
      return -1;
    }
    if (ps->s->blocks[idx].state == 1) {
      set_err (ps->err, ps->err_len,
          "%s line %u: recursive type: %s contains itself", blk->name,
          line_no, ps->s->blocks[idx].name);
      return -1;
    }
    sub = build_type (ps, idx, depth + 1);
    if (!sub)
      return -1;
    f->type = MB_ROS_MESSAGE;
    f->msg = &sub->pub;
    elem_min = sub->min_size;
    elem_fixed = sub->fixed;
    if (sub->depth + 1 > owner->depth)
      owner->depth = sub->depth + 1;
    /* also catches deep nesting through types parsed earlier (cached) */
    if (owner->depth > MAX_DEPTH) {
      set_err (ps->err, ps->err_len,
          "message types nested deeper than %d levels (at %s)", MAX_DEPTH,
          blk->name);
      return -1;
    }
  }

  if (f->array_len == MB_ROS_VAR_ARRAY) {
    owner->min_size = sat_add (owner->min_size, 4);
    owner->fixed = 0;
  } else if (f->array_len > 0) {
    owner->min_size = sat_add (owner->min_size,
        sat_mul (elem_min, (uint64_t) f->array_len));
    if (!elem_fixed)
      owner->fixed = 0;
  } else {
    owner->min_size = sat_add (owner->min_size, elem_min);
    if (!elem_fixed)
      owner->fixed = 0;
  }
  return 0;
}

/* A constant line: "type NAME=value". Only checked, not stored. */
static int
check_constant (Parser * ps, Block * blk, unsigned line_no, const char *b,
    const char *e)
{
  const char *te = b, *eq = memchr (b, '=', (size_t) (e - b));
  const char *nb, *ne;
  MbRosPrimitive prim;

  while (te < eq && !is_space (*te))
    te++;
  if (!lookup_builtin (b, (size_t) (te - b), &prim) || prim == MB_ROS_TIME
      || prim == MB_ROS_DURATION) {
    set_err (ps->err, ps->err_len,
        "%s line %u: \"%.*s\" is not a valid constant type", blk->name,
        line_no, (int) (te - b > 64 ? 64 : te - b), b);
    return -1;
  }
  nb = te;
  ne = eq;
  trim (&nb, &ne);
  if (nb == ne || !is_alpha (*nb)) {
    set_err (ps->err, ps->err_len, "%s line %u: constant without a name",
        blk->name, line_no);
    return -1;
  }
  for (; nb < ne; nb++) {
    if (!is_ident_char (*nb)) {
      set_err (ps->err, ps->err_len, "%s line %u: invalid constant name",
          blk->name, line_no);
      return -1;
    }
  }
  return 0;
}

static Type *
build_type (Parser * ps, size_t block_idx, int depth)
{
  Block *blk = &ps->s->blocks[block_idx];
  const char *p, *end;
  size_t cap = 0;
  unsigned line_no = 0;
  Type *t;

  if (blk->state == 2)
    return blk->type;
  if (depth >= MAX_DEPTH) {
    set_err (ps->err, ps->err_len,
        "message types nested deeper than %d levels (at %s)", MAX_DEPTH,
        blk->name);
    return NULL;
  }

  t = calloc (1, sizeof (Type));
  if (!t) {
    set_err (ps->err, ps->err_len, "out of memory");
    return NULL;
  }
  t->pub.name = strdup (blk->name);
  if (!t->pub.name) {
    free (t);
    set_err (ps->err, ps->err_len, "out of memory");
    return NULL;
  }
  t->fixed = 1;
  t->depth = 1;
  blk->state = 1;
  /* owned by the block from now on, so errors below free it with the schema */
  blk->type = t;

  p = blk->text;
  end = blk->text + blk->len;
  while (p < end) {
    const char *nl = memchr (p, '\n', (size_t) (end - p));
    const char *le = nl ? nl : end;
    const char *b = p, *e, *hash;

    line_no++;
    p = nl ? nl + 1 : end;
    hash = memchr (b, '#', (size_t) (le - b));
    e = hash ? hash : le;
    trim (&b, &e);
    if (b == e)
      continue;
    if (memchr (b, '=', (size_t) (e - b))) {
      if (check_constant (ps, blk, line_no, b, e) < 0)
        return NULL;
      continue;
    }
    if (t->pub.n_fields == cap) {
      size_t ncap = cap ? cap * 2 : 8;
      MbRosField *nf = realloc (t->pub.fields, ncap * sizeof (MbRosField));
      if (!nf) {
        set_err (ps->err, ps->err_len, "out of memory");
        return NULL;
      }
      t->pub.fields = nf;
      cap = ncap;
    }
    memset (&t->pub.fields[t->pub.n_fields], 0, sizeof (MbRosField));
    t->pub.n_fields++;
    if (parse_field (ps, blk, line_no, b, e,
            &t->pub.fields[t->pub.n_fields - 1], t, depth) < 0)
      return NULL;
  }

  if (t->min_size >= SIZE_CAP) {
    set_err (ps->err, ps->err_len, "%s: serialized size too large",
        blk->name);
    return NULL;
  }
  t->pub.fixed_size = t->fixed ? (size_t) t->min_size : 0;
  blk->state = 2;
  return t;
}

void
mb_ros_schema_free (MbRosSchema * schema)
{
  size_t i;

  if (!schema)
    return;
  for (i = 0; i < schema->n_blocks; i++) {
    type_free (schema->blocks[i].type);
    free (schema->blocks[i].name);
  }
  free (schema->blocks);
  free (schema);
}

MbRosSchema *
mb_ros_schema_parse (const char *type_name, const char *definition,
    size_t definition_len, char *err, size_t err_len)
{
  Parser ps;
  MbRosSchema *s;
  size_t i;

  if (err && err_len)
    err[0] = '\0';
  if (!type_name || !valid_type_name (type_name, strlen (type_name))) {
    set_err (err, err_len, "invalid root type name \"%s\"",
        type_name ? type_name : "(null)");
    return NULL;
  }
  if (!definition && definition_len) {
    set_err (err, err_len, "no definition text");
    return NULL;
  }
  s = calloc (1, sizeof (MbRosSchema));
  if (!s) {
    set_err (err, err_len, "out of memory");
    return NULL;
  }
  ps.s = s;
  ps.err = err;
  ps.err_len = err_len;
  if (memchr (definition ? definition : "", '\0', definition_len)) {
    set_err (err, err_len, "definition text contains a NUL byte");
    goto fail;
  }
  if (split_blocks (&ps, type_name, definition ? definition : "",
          definition_len) < 0)
    goto fail;
  /* a type defined twice is ambiguous */
  for (i = 1; i < s->n_blocks; i++) {
    size_t j;
    for (j = 0; j < i; j++) {
      if (strcmp (s->blocks[i].name, s->blocks[j].name) == 0) {
        set_err (err, err_len, "type %s is defined twice", s->blocks[i].name);
        goto fail;
      }
    }
  }
  s->root = build_type (&ps, 0, 0);
  if (!s->root)
    goto fail;

  if (s->root->pub.n_fields > 0) {
    const MbRosField *f = &s->root->pub.fields[0];
    if (f->type == MB_ROS_MESSAGE && f->array_len == MB_ROS_NOT_ARRAY
        && strcmp (f->msg->name, "std_msgs/Header") == 0
        && f->msg->n_fields >= 2
        && f->msg->fields[0].type == MB_ROS_UINT32
        && f->msg->fields[0].array_len == MB_ROS_NOT_ARRAY
        && f->msg->fields[1].type == MB_ROS_TIME
        && f->msg->fields[1].array_len == MB_ROS_NOT_ARRAY)
      s->has_header = 1;
  }
  return s;

fail:
  mb_ros_schema_free (s);
  return NULL;
}

const MbRosMsgType *
mb_ros_schema_root (const MbRosSchema * schema)
{
  return schema ? &schema->root->pub : NULL;
}

int
mb_ros_schema_has_header (const MbRosSchema * schema)
{
  return schema ? schema->has_header : 0;
}

const MbRosMsgType *
mb_ros_schema_find_type (const MbRosSchema * schema, const char *name)
{
  size_t i;

  if (!schema || !name)
    return NULL;
  for (i = 0; i < schema->n_blocks; i++) {
    if (schema->blocks[i].state == 2 && strcmp (schema->blocks[i].name,
            name) == 0)
      return &schema->blocks[i].type->pub;
  }
  return NULL;
}

size_t
mb_ros_type_min_size (const MbRosMsgType * type)
{
  return type ? (size_t) ((const Type *) type)->min_size : 0;
}

int
mb_ros_type_is_fixed (const MbRosMsgType * type)
{
  return type ? ((const Type *) type)->fixed : 0;
}

static int
field_is_fixed (const MbRosField * f)
{
  if (f->array_len == MB_ROS_VAR_ARRAY || f->type == MB_ROS_STRING)
    return 0;
  if (f->type == MB_ROS_MESSAGE)
    return ((const Type *) f->msg)->fixed;
  return 1;
}

size_t
mb_ros_field_fixed_size (const MbRosField * f)
{
  size_t elem;

  if (!f || !field_is_fixed (f))
    return 0;
  if (f->type == MB_ROS_MESSAGE)
    elem = f->msg->fixed_size;
  else
    elem = mb_ros_primitive_size (f->type);
  return f->array_len > 0 ? elem * (size_t) f->array_len : elem;
}

int
mb_ros_field_offset (const MbRosMsgType * type, size_t index,
    size_t *offset)
{
  size_t i, off = 0;

  if (!type || index >= type->n_fields)
    return -1;
  for (i = 0; i < index; i++) {
    if (!field_is_fixed (&type->fields[i]))
      return -1;
    off += mb_ros_field_fixed_size (&type->fields[i]);
  }
  if (offset)
    *offset = off;
  return 0;
}

const MbRosField *
mb_ros_type_find_field (const MbRosMsgType * type, const char *name,
    size_t *index)
{
  size_t i;

  if (!type || !name)
    return NULL;
  for (i = 0; i < type->n_fields; i++) {
    if (strcmp (type->fields[i].name, name) == 0) {
      if (index)
        *index = i;
      return &type->fields[i];
    }
  }
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Walker */

typedef struct
{
  const uint8_t *data;
  size_t len;
  size_t pos;
  const MbRosVisitor *v;
  void *ud;
  uint64_t budget;              /* steps left */
} Walk;

static uint32_t
rd_u32 (const uint8_t * p)
{
  return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16) |
      ((uint32_t) p[3] << 24);
}

static int
take_count (Walk * w, uint32_t * out)
{
  if (w->len - w->pos < 4)
    return MB_ROS_WALK_MALFORMED;
  *out = rd_u32 (w->data + w->pos);
  w->pos += 4;
  return 0;
}

/* The minimum bytes that @count elements need must be available. */
static int
check_need (Walk * w, uint64_t count, uint64_t elem_min)
{
  uint64_t need = sat_mul (count, elem_min);

  if (need > (uint64_t) (w->len - w->pos))
    return MB_ROS_WALK_MALFORMED;
  return 0;
}

static int
step (Walk * w)
{
  if (w->budget == 0)
    return MB_ROS_WALK_MALFORMED;
  w->budget--;
  return 0;
}

static int walk_msg (Walk * w, const MbRosField * f, uint32_t index,
    const Type * t);

static int
walk_string (Walk * w, const MbRosField * f, uint32_t index)
{
  uint32_t n;
  int r;

  if ((r = take_count (w, &n)))
    return r;
  if (n > w->len - w->pos)
    return MB_ROS_WALK_MALFORMED;
  if (w->v->string && (r = w->v->string (w->ud, f, index,
              (const char *) w->data + w->pos, n)))
    return r;
  w->pos += n;
  return 0;
}

static int
walk_field (Walk * w, const MbRosField * f)
{
  uint32_t count, i;
  int r;

  if ((r = step (w)))
    return r;

  if (f->array_len == MB_ROS_NOT_ARRAY) {
    if (f->type == MB_ROS_MESSAGE)
      return walk_msg (w, f, 0, (const Type *) f->msg);
    if (f->type == MB_ROS_STRING)
      return walk_string (w, f, 0);
    {
      size_t sz = mb_ros_primitive_size (f->type);
      if (w->len - w->pos < sz)
        return MB_ROS_WALK_MALFORMED;
      if (w->v->scalar && (r = w->v->scalar (w->ud, f, 0, w->data + w->pos)))
        return r;
      w->pos += sz;
      return 0;
    }
  }

  if (f->array_len == MB_ROS_VAR_ARRAY) {
    if ((r = take_count (w, &count)))
      return r;
  } else {
    count = (uint32_t) f->array_len;
  }

  if (f->type != MB_ROS_MESSAGE && f->type != MB_ROS_STRING) {
    size_t sz = mb_ros_primitive_size (f->type);
    if ((r = check_need (w, count, sz)))
      return r;
    if (w->v->prim_array && (r = w->v->prim_array (w->ud, f, count,
                w->data + w->pos)))
      return r;
    w->pos += (size_t) count *sz;
    return 0;
  }

  if (f->type == MB_ROS_STRING) {
    if ((r = check_need (w, count, 4)))
      return r;
  } else {
    const Type *t = (const Type *) f->msg;
    /* zero-size elements count as one byte for this check */
    if ((r = check_need (w, count, t->min_size ? t->min_size : 1)))
      return r;
  }
  if (w->v->array_begin && (r = w->v->array_begin (w->ud, f, count)))
    return r;
  for (i = 0; i < count; i++) {
    if (f->type == MB_ROS_STRING) {
      if ((r = step (w)) || (r = walk_string (w, f, i)))
        return r;
    } else {
      if ((r = step (w)) || (r = walk_msg (w, f, i, (const Type *) f->msg)))
        return r;
    }
  }
  if (w->v->array_end && (r = w->v->array_end (w->ud, f)))
    return r;
  return 0;
}

static int
walk_msg (Walk * w, const MbRosField * f, uint32_t index, const Type * t)
{
  size_t i;
  int r;

  if (t->min_size > (uint64_t) (w->len - w->pos))
    return MB_ROS_WALK_MALFORMED;
  if (w->v->message_begin && (r = w->v->message_begin (w->ud, f, index,
              &t->pub)))
    return r;
  for (i = 0; i < t->pub.n_fields; i++) {
    if ((r = walk_field (w, &t->pub.fields[i])))
      return r;
  }
  if (w->v->message_end && (r = w->v->message_end (w->ud, f, &t->pub)))
    return r;
  return 0;
}

int
mb_ros_walk (const MbRosSchema * schema, const uint8_t * data, size_t len,
    const MbRosVisitor * visitor, void *ud, size_t *consumed)
{
  static const MbRosVisitor none = { 0 };
  Walk w;
  int r;

  if (consumed)
    *consumed = 0;
  if (!schema || (!data && len))
    return MB_ROS_WALK_MALFORMED;
  w.data = data;
  w.len = len;
  w.pos = 0;
  w.v = visitor ? visitor : &none;
  w.ud = ud;
  /* In a message without empty sub-messages every byte is reached through
   * at most two steps (field + array element) per nesting level, so this
   * budget never stops a valid message of such a type; it bounds walks over
   * huge nested arrays of empty messages, which consume no bytes. */
  w.budget = (uint64_t) len *2 * (uint64_t) (schema->root->depth + 1) +
      (1u << 20);
  r = walk_msg (&w, NULL, 0, schema->root);
  if (consumed)
    *consumed = w.pos;
  return r;
}

int
mb_ros_header_stamp (const MbRosSchema * schema, const uint8_t * data,
    size_t len, int64_t * stamp_ns)
{
  uint32_t sec, nsec;

  if (!schema || !schema->has_header || !data || len < 12)
    return -1;
  sec = rd_u32 (data + 4);
  nsec = rd_u32 (data + 8);
  if (stamp_ns)
    *stamp_ns = (int64_t) sec * 1000000000 + (int64_t) nsec;
  return 0;
}
