/* libFuzzer harness for the serialized-message walker.
 * Input: "pkg/Type\n" + message_definition + '\0' + serialized bytes.
 * The bytes are copied into an exact-size buffer so that any read past the
 * end is caught by ASan; every callback checks that its pointer range lies
 * inside the buffer.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <membound/rosmsg.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

typedef struct
{
  const uint8_t *buf;
  size_t len;
  int depth;
  uint64_t sum;
} Ctx;

static void
in_range (Ctx * c, const void *p, size_t n)
{
  const uint8_t *q = p;
  if (q < c->buf || q > c->buf + c->len || n > (size_t) (c->buf + c->len - q))
    abort ();
}

static int
on_scalar (void *ud, const MbRosField * f, uint32_t index, const uint8_t * p)
{
  Ctx *c = ud;
  size_t sz = mb_ros_primitive_size (f->type);
  if (sz == 0)
    abort ();
  in_range (c, p, sz);
  c->sum += p[sz - 1];
  return 0;
}

static int
on_prim_array (void *ud, const MbRosField * f, uint32_t count,
    const uint8_t * p)
{
  Ctx *c = ud;
  size_t sz = mb_ros_primitive_size (f->type);
  if (sz == 0)
    abort ();
  in_range (c, p, (size_t) count * sz);
  if (count)
    c->sum += p[(size_t) count * sz - 1];
  return 0;
}

static int
on_string (void *ud, const MbRosField * f, uint32_t index, const char *s,
    uint32_t len)
{
  Ctx *c = ud;
  in_range (c, s, len);
  if (len)
    c->sum += (uint8_t) s[len - 1];
  return 0;
}

static int
on_msg_begin (void *ud, const MbRosField * f, uint32_t index,
    const MbRosMsgType * t)
{
  Ctx *c = ud;
  c->depth++;
  return 0;
}

static int
on_msg_end (void *ud, const MbRosField * f, const MbRosMsgType * t)
{
  Ctx *c = ud;
  if (--c->depth < 0)
    abort ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  const uint8_t *nl = memchr (data, '\n', size), *nul;
  static const MbRosVisitor v = { on_scalar, on_prim_array, on_string, NULL,
    NULL, on_msg_begin, on_msg_end
  };
  char type[300];
  size_t tl, consumed = 0;
  MbRosSchema *s;
  Ctx c = { 0 };
  uint8_t *copy;
  int r;

  if (!nl)
    return 0;
  tl = (size_t) (nl - data);
  if (tl >= sizeof (type))
    return 0;
  memcpy (type, data, tl);
  type[tl] = '\0';
  nul = memchr (nl + 1, '\0', size - tl - 1);
  if (!nul)
    return 0;
  s = mb_ros_schema_parse (type, (const char *) nl + 1,
      (size_t) (nul - nl - 1), NULL, 0);
  if (!s)
    return 0;
  c.len = size - (size_t) (nul + 1 - data);
  copy = malloc (c.len ? c.len : 1);
  memcpy (copy, nul + 1, c.len);
  c.buf = copy;
  r = mb_ros_walk (s, copy, c.len, &v, &c, &consumed);
  if (consumed > c.len || (r == 0 && c.depth != 0))
    abort ();
  /* walking without a visitor must agree */
  {
    size_t consumed2 = 0;
    int r2 = mb_ros_walk (s, copy, c.len, NULL, NULL, &consumed2);
    if (r2 != r || (r == 0 && consumed2 != consumed))
      abort ();
  }
  free (copy);
  mb_ros_schema_free (s);
  return 0;
}
