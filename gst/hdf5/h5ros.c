/* membound: HDF5 compound rows for ROS1 messages (h5ros). Plain C.
 *
 * The layout is a tree of nodes mirroring the message definition. Each node
 * knows its HDF5 memory type and its C size/alignment, so a row is a plain C
 * struct the compound type describes member by member. Conversion walks the
 * serialized message with mb_ros_walk() and fills the row through a small
 * stack of frames (message being filled / array being filled).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "h5ros.h"
#include "h5lock.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32            /* nesting limit for definitions */
#define MAX_FRAMES 72           /* walk stack: messages + arrays */

typedef enum
{
  NODE_SCALAR,                  /* fixed-size primitive, bool → uint8 */
  NODE_TIME,                    /* time / duration → int64 ns */
  NODE_STRING,                  /* char * */
  NODE_MESSAGE,                 /* nested compound */
  NODE_FIXED_ARRAY,             /* H5T_ARRAY of elem */
  NODE_VAR_ARRAY                /* hvl_t of elem */
} NodeKind;

typedef struct _Node Node;
struct _Node
{
  NodeKind kind;
  MbRosPrimitive prim;          /* NODE_SCALAR / NODE_TIME */
  hid_t type;                   /* memory type, owned; -1 for empty messages */
  size_t size, align;

  /* NODE_MESSAGE */
  const MbRosMsgType *msg;
  Node **children;              /* one per field; NULL for left-out fields */
  size_t *offsets;

  /* arrays */
  Node *elem;
  uint32_t count;               /* NODE_FIXED_ARRAY */

  int has_vlen;                 /* strings or variable arrays inside */
};

struct _MbH5RosLayout
{
  const MbRosSchema *schema;    /* not owned: the walker needs it */
  Node *root;
};

static void
set_err (char *err, size_t err_len, const char *fmt, ...)
{
  va_list ap;

  if (err == NULL || err_len == 0)
    return;
  va_start (ap, fmt);
  vsnprintf (err, err_len, fmt, ap);
  va_end (ap);
}

/* ---------------------------------------------------------------- types */

static void
node_free (Node * n)
{
  size_t i;

  if (n == NULL)
    return;
  if (n->kind == NODE_MESSAGE && n->children) {
    for (i = 0; i < n->msg->n_fields; i++)
      node_free (n->children[i]);
  }
  free (n->children);
  free (n->offsets);
  node_free (n->elem);
  if (n->type >= 0)
    H5Tclose (n->type);
  free (n);
}

static hid_t
scalar_type (MbRosPrimitive p)
{
  switch (p) {
    case MB_ROS_BOOL:
    case MB_ROS_UINT8:
      return H5T_NATIVE_UINT8;
    case MB_ROS_INT8:
      return H5T_NATIVE_INT8;
    case MB_ROS_INT16:
      return H5T_NATIVE_INT16;
    case MB_ROS_UINT16:
      return H5T_NATIVE_UINT16;
    case MB_ROS_INT32:
      return H5T_NATIVE_INT32;
    case MB_ROS_UINT32:
      return H5T_NATIVE_UINT32;
    case MB_ROS_INT64:
      return H5T_NATIVE_INT64;
    case MB_ROS_UINT64:
      return H5T_NATIVE_UINT64;
    case MB_ROS_FLOAT32:
      return H5T_NATIVE_FLOAT;
    case MB_ROS_FLOAT64:
      return H5T_NATIVE_DOUBLE;
    default:
      return -1;
  }
}

static size_t
round_up (size_t v, size_t a)
{
  return (v + a - 1) / a * a;
}

static Node *build_message (const MbRosMsgType * t, int depth, char *err,
    size_t err_len);

/* The node of one element (not an array) of type @p / @msg. */
static Node *
build_element (MbRosPrimitive p, const MbRosMsgType * msg, int depth,
    char *err, size_t err_len)
{
  Node *n;

  if (p == MB_ROS_MESSAGE) {
    if (msg == NULL) {
      set_err (err, err_len, "nested message field without a type");
      return NULL;
    }
    return build_message (msg, depth + 1, err, err_len);
  }

  n = calloc (1, sizeof (Node));
  if (n == NULL)
    return NULL;
  n->prim = p;
  n->type = -1;
  if (p == MB_ROS_TIME || p == MB_ROS_DURATION) {
    n->kind = NODE_TIME;
    n->type = H5Tcopy (H5T_NATIVE_INT64);
    n->size = n->align = sizeof (int64_t);
  } else if (p == MB_ROS_STRING) {
    n->kind = NODE_STRING;
    n->has_vlen = 1;
    n->type = H5Tcopy (H5T_C_S1);
    if (n->type >= 0 && (H5Tset_size (n->type, H5T_VARIABLE) < 0
            || H5Tset_cset (n->type, H5T_CSET_UTF8) < 0)) {
      H5Tclose (n->type);
      n->type = -1;
    }
    n->size = n->align = sizeof (char *);
  } else {
    hid_t base = scalar_type (p);
    if (base < 0) {
      set_err (err, err_len, "unsupported primitive type %d", (int) p);
      free (n);
      return NULL;
    }
    n->kind = NODE_SCALAR;
    n->type = H5Tcopy (base);
    n->size = n->align = mb_ros_primitive_size (p);
  }
  if (n->type < 0) {
    set_err (err, err_len, "HDF5 type creation failed for %s",
        mb_ros_primitive_name (p));
    free (n);
    return NULL;
  }
  return n;
}

/* HDF5 1.10.8 corrupts the variable-length data of an H5T_ARRAY of
 * compounds holding strings or sequences when one H5Dwrite stores several
 * rows (lengths kept, bytes zeroed; found by tests/hdf5/test_h5ros.py, row by
 * row writes are fine). Such a fixed array of N messages is therefore a
 * compound with members "0" .. "N-1": the same memory layout, readable
 * everywhere (h5py: ds['pair']['0']['label']). */
static hid_t
fixed_message_array_type (const Node * elem, uint32_t count)
{
  hid_t t = H5Tcreate (H5T_COMPOUND, elem->size * count);
  uint32_t i;
  char name[16];

  for (i = 0; t >= 0 && i < count; i++) {
    snprintf (name, sizeof (name), "%u", i);
    if (H5Tinsert (t, name, (size_t) i * elem->size, elem->type) < 0) {
      H5Tclose (t);
      t = -1;
    }
  }
  return t;
}

/* The node of one field (with its array-ness). NULL with err[0] == 0 after
 * a successful call means "left out" (empty message). */
static Node *
build_field (const MbRosField * f, int depth, char *err, size_t err_len)
{
  Node *elem, *n;

  elem = build_element (f->type, f->msg, depth, err, err_len);
  if (elem == NULL)
    return NULL;
  if (elem->type < 0) {         /* empty message: leave the field out */
    node_free (elem);
    return NULL;
  }
  if (f->array_len == MB_ROS_NOT_ARRAY)
    return elem;

  n = calloc (1, sizeof (Node));
  if (n == NULL) {
    node_free (elem);
    return NULL;
  }
  n->elem = elem;
  n->type = -1;
  if (f->array_len == MB_ROS_VAR_ARRAY) {
    n->kind = NODE_VAR_ARRAY;
    n->has_vlen = 1;
    n->type = H5Tvlen_create (elem->type);
    n->size = sizeof (hvl_t);
    n->align = sizeof (void *);
  } else if (f->array_len > 0) {
    hsize_t dim = (hsize_t) f->array_len;
    n->kind = NODE_FIXED_ARRAY;
    n->count = (uint32_t) f->array_len;
    n->size = elem->size * n->count;
    n->align = elem->align;
    n->has_vlen = elem->has_vlen;
    if (elem->kind == NODE_MESSAGE && elem->has_vlen)
      n->type = fixed_message_array_type (elem, n->count);
    else
      n->type = H5Tarray_create2 (elem->type, 1, &dim);
  } else {
    set_err (err, err_len, "field '%s': bad array length %d", f->name,
        (int) f->array_len);
    node_free (n);
    return NULL;
  }
  if (n->type < 0) {
    set_err (err, err_len, "field '%s': HDF5 array type creation failed",
        f->name);
    node_free (n);
    return NULL;
  }
  return n;
}

static Node *
build_message (const MbRosMsgType * t, int depth, char *err, size_t err_len)
{
  Node *n;
  size_t i, off = 0, align = 1, n_members = 0;

  if (depth > MAX_DEPTH) {
    set_err (err, err_len, "message '%s' nested deeper than %d levels",
        t->name ? t->name : "?", MAX_DEPTH);
    return NULL;
  }
  n = calloc (1, sizeof (Node));
  if (n == NULL)
    return NULL;
  n->kind = NODE_MESSAGE;
  n->msg = t;
  n->type = -1;
  n->children = calloc (t->n_fields ? t->n_fields : 1, sizeof (Node *));
  n->offsets = calloc (t->n_fields ? t->n_fields : 1, sizeof (size_t));
  if (n->children == NULL || n->offsets == NULL)
    goto fail;

  for (i = 0; i < t->n_fields; i++) {
    Node *c;

    if (err && err_len)
      err[0] = '\0';
    c = build_field (&t->fields[i], depth, err, err_len);
    if (c == NULL) {
      if (err && err_len && err[0])
        goto fail;
      continue;                 /* left out */
    }
    off = round_up (off, c->align);
    n->children[i] = c;
    n->offsets[i] = off;
    n->has_vlen |= c->has_vlen;
    off += c->size;
    if (c->align > align)
      align = c->align;
    n_members++;
  }
  if (n_members == 0)
    return n;                   /* empty: type stays -1 */

  n->align = align;
  n->size = round_up (off, align);
  n->type = H5Tcreate (H5T_COMPOUND, n->size);
  if (n->type < 0) {
    set_err (err, err_len, "HDF5 compound creation failed for '%s'", t->name);
    goto fail;
  }
  for (i = 0; i < t->n_fields; i++) {
    if (n->children[i] == NULL)
      continue;
    if (H5Tinsert (n->type, t->fields[i].name, n->offsets[i],
            n->children[i]->type) < 0) {
      set_err (err, err_len, "HDF5 cannot insert field '%s' of '%s'",
          t->fields[i].name, t->name);
      goto fail;
    }
  }
  return n;

fail:
  if (err && err_len && !err[0])
    set_err (err, err_len, "out of memory");
  node_free (n);
  return NULL;
}

MbH5RosLayout *
mb_h5ros_layout_new (const MbRosSchema * schema, char *err, size_t err_len)
{
  const MbRosMsgType *root;
  MbH5RosLayout *l;
  Node *n;

  if (err && err_len)
    err[0] = '\0';
  if (schema == NULL || (root = mb_ros_schema_root (schema)) == NULL) {
    set_err (err, err_len, "no message schema");
    return NULL;
  }
  mb_h5_lock ();
  n = build_message (root, 0, err, err_len);
  if (n && n->type < 0) {
    set_err (err, err_len, "message '%s' has no fields to store",
        root->name ? root->name : "?");
    node_free (n);
    n = NULL;
  }
  mb_h5_unlock ();
  if (n == NULL)
    return NULL;
  l = calloc (1, sizeof (MbH5RosLayout));
  if (l == NULL) {
    mb_h5_lock ();
    node_free (n);
    mb_h5_unlock ();
    set_err (err, err_len, "out of memory");
    return NULL;
  }
  l->schema = schema;
  l->root = n;
  return l;
}

hid_t
mb_h5ros_layout_type (const MbH5RosLayout * l)
{
  return l->root->type;
}

size_t
mb_h5ros_layout_row_size (const MbH5RosLayout * l)
{
  return l->root->size;
}

void
mb_h5ros_layout_free (MbH5RosLayout * l)
{
  if (l == NULL)
    return;
  mb_h5_lock ();
  node_free (l->root);
  mb_h5_unlock ();
  free (l);
}

/* ----------------------------------------------------------------- rows */

static void
clear_node (const Node * n, uint8_t * p)
{
  size_t i;

  switch (n->kind) {
    case NODE_STRING:{
      char *s;
      memcpy (&s, p, sizeof (s));
      free (s);
      break;
    }
    case NODE_MESSAGE:
      for (i = 0; i < n->msg->n_fields; i++)
        if (n->children[i])
          clear_node (n->children[i], p + n->offsets[i]);
      break;
    case NODE_FIXED_ARRAY:
      if (n->elem->kind == NODE_STRING || n->elem->kind == NODE_MESSAGE)
        for (i = 0; i < n->count; i++)
          clear_node (n->elem, p + i * n->elem->size);
      break;
    case NODE_VAR_ARRAY:{
      hvl_t v;
      memcpy (&v, p, sizeof (v));
      if (v.p && (n->elem->kind == NODE_STRING
              || n->elem->kind == NODE_MESSAGE))
        for (i = 0; i < v.len; i++)
          clear_node (n->elem, (uint8_t *) v.p + i * n->elem->size);
      free (v.p);
      break;
    }
    default:
      break;
  }
}

void
mb_h5ros_layout_row_clear (const MbH5RosLayout * l, void *row)
{
  clear_node (l->root, row);
  memset (row, 0, l->root->size);
}

/* Loads a little-endian value of @size bytes into native order. */
static void
load_le (void *dst, const uint8_t * src, size_t size)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  size_t i;
  for (i = 0; i < size; i++)
    ((uint8_t *) dst)[i] = src[size - 1 - i];
#else
  memcpy (dst, src, size);
#endif
}

static int64_t
load_time_ns (MbRosPrimitive p, const uint8_t * src)
{
  if (p == MB_ROS_TIME) {
    uint32_t s, ns;
    load_le (&s, src, 4);
    load_le (&ns, src + 4, 4);
    return (int64_t) s * 1000000000 + ns;
  } else {
    int32_t s, ns;
    load_le (&s, src, 4);
    load_le (&ns, src + 4, 4);
    return (int64_t) s * 1000000000 + ns;
  }
}

/* Stores one fixed-size primitive element of node @n from wire bytes. */
static void
store_scalar (const Node * n, uint8_t * dst, const uint8_t * src)
{
  if (n->kind == NODE_TIME) {
    int64_t v = load_time_ns (n->prim, src);
    memcpy (dst, &v, sizeof (v));
  } else {
    uint8_t tmp[8];
    load_le (tmp, src, n->size);
    memcpy (dst, tmp, n->size);
  }
}

typedef struct
{
  const Node *node;             /* message node, or array node */
  uint8_t *base;                /* message: row bytes; array: first element */
  const MbRosField *field;      /* array frames: the array field */
  uint32_t count;               /* array frames: number of elements */
} Frame;

typedef struct
{
  const MbH5RosLayout *l;
  uint8_t *row;
  Frame stack[MAX_FRAMES];
  int depth;
} Conv;

#define CONV_FAIL MB_ROS_WALK_MALFORMED

/* Locates the destination of field @f (element @index) in the top frame.
 * Returns the node and sets *dst; returns NULL when the field is left out
 * of the layout, with *bad set when @f does not belong there at all. */
static const Node *
locate (Conv * c, const MbRosField * f, uint32_t index, uint8_t ** dst,
    int *bad)
{
  Frame *top;
  const MbRosMsgType *t;
  size_t i;

  *dst = NULL;
  *bad = 0;
  if (c->depth <= 0) {
    *bad = 1;
    return NULL;
  }
  top = &c->stack[c->depth - 1];
  if (top->node->kind != NODE_MESSAGE) {
    /* inside an array: the element of that array */
    if (f != top->field || index >= top->count) {
      *bad = 1;
      return NULL;
    }
    *dst = top->base + (size_t) index * top->node->elem->size;
    return top->node->elem;
  }
  t = top->node->msg;
  if (f >= t->fields && f < t->fields + t->n_fields) {
    i = (size_t) (f - t->fields);
  } else {
    for (i = 0; i < t->n_fields; i++)
      if (f && t->fields[i].name && f->name
          && strcmp (t->fields[i].name, f->name) == 0)
        break;
    if (i == t->n_fields) {
      *bad = 1;
      return NULL;
    }
  }
  if (top->node->children[i] == NULL)
    return NULL;                /* left out (empty message) */
  *dst = top->base + top->node->offsets[i];
  return top->node->children[i];
}

static int
push (Conv * c, const Node * n, uint8_t * base, const MbRosField * f,
    uint32_t count)
{
  if (c->depth >= MAX_FRAMES)
    return CONV_FAIL;
  c->stack[c->depth].node = n;
  c->stack[c->depth].base = base;
  c->stack[c->depth].field = f;
  c->stack[c->depth].count = count;
  c->depth++;
  return 0;
}

/* Skipping left-out content: a frame with node NULL swallows everything
 * until its matching end. */
static int
skipping (Conv * c)
{
  return c->depth > 0 && c->stack[c->depth - 1].node == NULL;
}

/* The node and destination of field @f element @index. Returns CONV_FAIL
 * when @f does not belong there, else 0 with *n NULL when the content is
 * skipped (left-out field). */
static int
target (Conv * c, const MbRosField * f, uint32_t index, const Node ** n,
    uint8_t ** dst)
{
  int bad;

  *n = NULL;
  *dst = NULL;
  if (skipping (c))
    return 0;
  *n = locate (c, f, index, dst, &bad);
  return bad ? CONV_FAIL : 0;
}

static int
on_scalar (void *ud, const MbRosField * f, uint32_t index, const uint8_t * p)
{
  Conv *c = ud;
  uint8_t *dst;
  const Node *n;
  int ret = target (c, f, index, &n, &dst);

  if (ret != 0 || n == NULL)
    return ret;
  if (n->kind != NODE_SCALAR && n->kind != NODE_TIME)
    return CONV_FAIL;
  store_scalar (n, dst, p);
  return 0;
}

/* Allocates the storage of array node @n at @dst for @count elements and
 * returns the first element (NULL with count 0 for an empty vlen). */
static int
array_storage (const Node * n, uint8_t * dst, uint32_t count, uint8_t ** out)
{
  if (n->kind == NODE_FIXED_ARRAY) {
    if (count != n->count)
      return CONV_FAIL;
    *out = dst;
    return 0;
  }
  if (n->kind == NODE_VAR_ARRAY) {
    hvl_t v;
    memcpy (&v, dst, sizeof (v));
    if (v.p != NULL)            /* the same field twice */
      return CONV_FAIL;
    v.len = count;
    v.p = count ? calloc (count, n->elem->size) : NULL;
    if (count && v.p == NULL)
      return CONV_FAIL;
    memcpy (dst, &v, sizeof (v));
    *out = v.p;
    return 0;
  }
  return CONV_FAIL;
}

static int
on_prim_array (void *ud, const MbRosField * f, uint32_t count,
    const uint8_t * p)
{
  Conv *c = ud;
  uint8_t *dst, *elems;
  const Node *n;
  size_t wire, i;
  int ret = target (c, f, 0, &n, &dst);

  if (ret != 0 || n == NULL)
    return ret;
  if ((n->kind != NODE_FIXED_ARRAY && n->kind != NODE_VAR_ARRAY)
      || (n->elem->kind != NODE_SCALAR && n->elem->kind != NODE_TIME))
    return CONV_FAIL;
  if (array_storage (n, dst, count, &elems) < 0)
    return CONV_FAIL;
  if (count == 0)
    return 0;
  wire = mb_ros_primitive_size (n->elem->prim);
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_BIG_ENDIAN__
  if (n->elem->kind == NODE_SCALAR) {
    memcpy (elems, p, (size_t) count * wire);
    return 0;
  }
#endif
  for (i = 0; i < count; i++)
    store_scalar (n->elem, elems + i * n->elem->size, p + i * wire);
  return 0;
}

static int
on_string (void *ud, const MbRosField * f, uint32_t index, const char *s,
    uint32_t len)
{
  Conv *c = ud;
  uint8_t *dst;
  const Node *n;
  char *copy, *old;
  int ret = target (c, f, index, &n, &dst);

  if (ret != 0 || n == NULL)
    return ret;
  if (n->kind != NODE_STRING)
    return CONV_FAIL;
  memcpy (&old, dst, sizeof (old));
  if (old != NULL)
    return CONV_FAIL;
  copy = malloc ((size_t) len + 1);
  if (copy == NULL)
    return CONV_FAIL;
  if (len)
    memcpy (copy, s, len);
  copy[len] = '\0';
  memcpy (dst, &copy, sizeof (copy));
  return 0;
}

static int
on_array_begin (void *ud, const MbRosField * f, uint32_t count)
{
  Conv *c = ud;
  uint8_t *dst, *elems;
  const Node *n;
  int ret = target (c, f, 0, &n, &dst);

  if (ret != 0)
    return ret;
  if (n == NULL)
    return push (c, NULL, NULL, f, 0);
  if (n->kind != NODE_FIXED_ARRAY && n->kind != NODE_VAR_ARRAY)
    return CONV_FAIL;
  if (array_storage (n, dst, count, &elems) < 0)
    return CONV_FAIL;
  return push (c, n, elems, f, count);
}

static int
on_array_end (void *ud, const MbRosField * f)
{
  Conv *c = ud;

  if (c->depth <= 0 || c->stack[c->depth - 1].field != f
      || (c->stack[c->depth - 1].node
          && c->stack[c->depth - 1].node->kind == NODE_MESSAGE))
    return CONV_FAIL;
  c->depth--;
  return 0;
}

static int
on_message_begin (void *ud, const MbRosField * f, uint32_t index,
    const MbRosMsgType * t)
{
  Conv *c = ud;
  uint8_t *dst;
  const Node *n;
  int ret;

  if (f == NULL) {
    if (c->depth != 0 || t != c->l->root->msg)
      return CONV_FAIL;
    return push (c, c->l->root, c->row, NULL, 0);
  }
  ret = target (c, f, index, &n, &dst);
  if (ret != 0)
    return ret;
  if (n == NULL)
    return push (c, NULL, NULL, f, 0);
  if (n->kind != NODE_MESSAGE)
    return CONV_FAIL;
  return push (c, n, dst, f, 0);
}

static int
on_message_end (void *ud, const MbRosField * f, const MbRosMsgType * t)
{
  Conv *c = ud;

  if (c->depth <= 0)
    return CONV_FAIL;
  c->depth--;
  return 0;
}

static const MbRosVisitor conv_visitor = {
  on_scalar, on_prim_array, on_string, on_array_begin, on_array_end,
  on_message_begin, on_message_end
};

int
mb_h5ros_layout_convert (const MbH5RosLayout * l, const uint8_t * msg,
    size_t len, void *row)
{
  Conv c;
  size_t consumed = 0;
  int ret;

  memset (row, 0, l->root->size);
  c.l = l;
  c.row = row;
  c.depth = 0;
  ret = mb_ros_walk (l->schema, msg, len, &conv_visitor, &c, &consumed);
  if (ret != 0 || c.depth != 0 || consumed != len) {
    mb_h5ros_layout_row_clear (l, row);
    return -1;
  }
  return 0;
}
