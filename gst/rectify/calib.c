/* membound: camera calibration file parsers (see calib.h).
 *
 * YAML goes through libyaml's document loader, XML through GLib's GMarkup;
 * both are turned into one small tree (mapping / sequence / scalar) that the
 * format readers below query by key.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "calib.h"

#include <glib.h>
#include <math.h>
#include <string.h>
#include <yaml.h>

#define MAX_DEPTH 48
#define MAX_NODES 200000
#define MAX_FILE_SIZE (16 * 1024 * 1024)

enum
{
  FMT_UNKNOWN = 0,
  FMT_OPENCV_STEREO,
  FMT_OPENCV_MONO,
  FMT_ROS,
  FMT_KALIBR,
};

const char *
mb_calib_format_name (int format)
{
  switch (format) {
    case FMT_OPENCV_STEREO:
      return "OpenCV stereo";
    case FMT_OPENCV_MONO:
      return "OpenCV mono";
    case FMT_ROS:
      return "ROS camera_info";
    case FMT_KALIBR:
      return "Kalibr camchain";
    default:
      return "unknown";
  }
}

/* ---------------------------------------------------------------- tree */

typedef enum
{
  N_SCALAR,
  N_MAP,
  N_SEQ
} NodeKind;

typedef struct _CNode CNode;
struct _CNode
{
  NodeKind kind;
  char *key;                    /* key in the parent mapping, or NULL */
  char *text;                   /* scalar value */
  GPtrArray *kids;              /* CNode*, for MAP and SEQ */
};

static CNode *
cnode_new (NodeKind kind, const char *key)
{
  CNode *n = g_new0 (CNode, 1);
  n->kind = kind;
  n->key = g_strdup (key);
  if (kind != N_SCALAR)
    n->kids = g_ptr_array_new ();
  return n;
}

static void
cnode_free (CNode * n)
{
  guint i;
  if (!n)
    return;
  if (n->kids) {
    for (i = 0; i < n->kids->len; i++)
      cnode_free (g_ptr_array_index (n->kids, i));
    g_ptr_array_free (n->kids, TRUE);
  }
  g_free (n->key);
  g_free (n->text);
  g_free (n);
}

static CNode *
cnode_get (const CNode * map, const char *key)
{
  guint i;
  if (!map || map->kind != N_MAP)
    return NULL;
  for (i = 0; i < map->kids->len; i++) {
    CNode *k = g_ptr_array_index (map->kids, i);
    if (k->key && strcmp (k->key, key) == 0)
      return k;
  }
  return NULL;
}

static gboolean
parse_double (const char *s, double *out)
{
  char *end;
  double v;
  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
    s++;
  if (!*s)
    return FALSE;
  v = g_ascii_strtod (s, &end);
  if (end == s)
    return FALSE;
  while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
    end++;
  if (*end || !isfinite (v))
    return FALSE;
  *out = v;
  return TRUE;
}

/* Collects the numbers of a node into out[0..max). A scalar may hold several
 * numbers separated by blanks or commas (OpenCV XML "data"); a sequence is
 * flattened; a mapping with a "data" member (opencv-matrix, ROS matrix) is
 * read through it. Returns the count, or -1 on a non-number. */
static int
collect_numbers (const CNode * n, double *out, int max, int count, int depth)
{
  guint i;

  if (!n || depth > MAX_DEPTH)
    return -1;
  if (n->kind == N_SCALAR) {
    char **tok;
    int j;
    if (!n->text)
      return count;
    tok = g_strsplit_set (n->text, " \t\r\n,[]", -1);
    for (j = 0; tok[j]; j++) {
      double v;
      if (!tok[j][0])
        continue;
      if (!parse_double (tok[j], &v)) {
        g_strfreev (tok);
        return -1;
      }
      if (count < max)
        out[count] = v;
      count++;
    }
    g_strfreev (tok);
    return count;
  }
  if (n->kind == N_MAP) {
    CNode *d = cnode_get (n, "data");
    if (!d)
      return -1;
    return collect_numbers (d, out, max, count, depth + 1);
  }
  for (i = 0; i < n->kids->len; i++) {
    count = collect_numbers (g_ptr_array_index (n->kids, i), out, max, count,
        depth + 1);
    if (count < 0)
      return -1;
  }
  return count;
}

/* --------------------------------------------------------------- YAML */

typedef struct
{
  yaml_document_t *doc;
  int budget;
} YamlConv;

static CNode *
yaml_to_cnode (YamlConv * c, yaml_node_t * yn, const char *key, int depth)
{
  CNode *n = NULL;

  if (!yn || depth > MAX_DEPTH || --c->budget < 0)
    return NULL;

  switch (yn->type) {
    case YAML_SCALAR_NODE:
      n = cnode_new (N_SCALAR, key);
      n->text = g_strndup ((const char *) yn->data.scalar.value,
          yn->data.scalar.length);
      break;
    case YAML_SEQUENCE_NODE:{
      yaml_node_item_t *it;
      n = cnode_new (N_SEQ, key);
      for (it = yn->data.sequence.items.start;
          it < yn->data.sequence.items.top; it++) {
        CNode *k = yaml_to_cnode (c, yaml_document_get_node (c->doc, *it),
            NULL, depth + 1);
        if (!k) {
          cnode_free (n);
          return NULL;
        }
        g_ptr_array_add (n->kids, k);
      }
      break;
    }
    case YAML_MAPPING_NODE:{
      yaml_node_pair_t *p;
      n = cnode_new (N_MAP, key);
      for (p = yn->data.mapping.pairs.start; p < yn->data.mapping.pairs.top;
          p++) {
        yaml_node_t *kn = yaml_document_get_node (c->doc, p->key);
        CNode *k;
        char *kstr;
        if (!kn || kn->type != YAML_SCALAR_NODE)
          continue;             /* complex keys: not used by any format */
        kstr = g_strndup ((const char *) kn->data.scalar.value,
            kn->data.scalar.length);
        k = yaml_to_cnode (c, yaml_document_get_node (c->doc, p->value),
            kstr, depth + 1);
        g_free (kstr);
        if (!k) {
          cnode_free (n);
          return NULL;
        }
        g_ptr_array_add (n->kids, k);
      }
      break;
    }
    default:
      return NULL;
  }
  return n;
}

static CNode *
parse_yaml (const char *data, size_t len, const char *name, char **err)
{
  yaml_parser_t parser;
  yaml_document_t doc;
  CNode *root = NULL;
  char *buf;
  size_t off = 0;

  /* OpenCV writes "%YAML:1.0" as its first line, which is not a valid YAML
   * directive: drop that line (and only that line) before parsing. */
  buf = g_malloc (len + 1);
  memcpy (buf, data, len);
  buf[len] = '\0';
  if (len >= 6 && strncmp (buf, "%YAML:", 6) == 0) {
    while (off < len && buf[off] != '\n')
      buf[off++] = ' ';
    buf[0] = '#';
  }

  if (!yaml_parser_initialize (&parser)) {
    g_free (buf);
    *err = g_strdup_printf ("calibration file '%s': cannot initialise the "
        "YAML parser", name);
    return NULL;
  }
  yaml_parser_set_input_string (&parser, (const unsigned char *) buf, len);
  if (!yaml_parser_load (&parser, &doc)) {
    *err = g_strdup_printf ("calibration file '%s': invalid YAML at line %lu "
        "column %lu: %s", name, (unsigned long) parser.problem_mark.line + 1,
        (unsigned long) parser.problem_mark.column + 1,
        parser.problem ? parser.problem : "parse error");
    yaml_parser_delete (&parser);
    g_free (buf);
    return NULL;
  }
  {
    YamlConv c = { &doc, MAX_NODES };
    yaml_node_t *r = yaml_document_get_root_node (&doc);
    if (r)
      root = yaml_to_cnode (&c, r, NULL, 0);
    if (!r)
      *err = g_strdup_printf ("calibration file '%s': empty YAML document",
          name);
    else if (!root)
      *err = g_strdup_printf ("calibration file '%s': YAML document too "
          "deeply nested or too large", name);
    else if (root->kind != N_MAP) {
      *err = g_strdup_printf ("calibration file '%s': top level of the YAML "
          "document is not a mapping", name);
      cnode_free (root);
      root = NULL;
    }
  }
  yaml_document_delete (&doc);
  yaml_parser_delete (&parser);
  g_free (buf);
  return root;
}

/* ---------------------------------------------------------------- XML */

typedef struct
{
  GPtrArray *stack;             /* CNode* of open elements */
  GString *text;
  CNode *root;
  int budget;
} XmlConv;

static void
xml_start (GMarkupParseContext * ctx, const gchar * element,
    const gchar ** attr_names, const gchar ** attr_values, gpointer user_data,
    GError ** error)
{
  XmlConv *x = user_data;
  CNode *n;

  if (x->stack->len >= MAX_DEPTH || --x->budget < 0) {
    g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
        "document too deeply nested or too large");
    return;
  }
  if (x->stack->len == 0 && x->root) {
    g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
        "more than one top-level element");
    return;
  }
  n = cnode_new (N_MAP, element);
  if (x->stack->len > 0) {
    CNode *parent = g_ptr_array_index (x->stack, x->stack->len - 1);
    g_ptr_array_add (parent->kids, n);
  } else {
    x->root = n;
  }
  g_ptr_array_add (x->stack, n);
  g_string_truncate (x->text, 0);
}

static void
xml_end (GMarkupParseContext * ctx, const gchar * element, gpointer user_data,
    GError ** error)
{
  XmlConv *x = user_data;
  CNode *n = g_ptr_array_index (x->stack, x->stack->len - 1);

  if (n->kids->len == 0) {
    /* a leaf element: a scalar (possibly a list of numbers) */
    g_ptr_array_free (n->kids, TRUE);
    n->kids = NULL;
    n->kind = N_SCALAR;
    n->text = g_strstrip (g_strdup (x->text->str));
  }
  g_ptr_array_remove_index (x->stack, x->stack->len - 1);
  g_string_truncate (x->text, 0);
}

static void
xml_text (GMarkupParseContext * ctx, const gchar * text, gsize len,
    gpointer user_data, GError ** error)
{
  XmlConv *x = user_data;
  if (x->text->len + len > MAX_FILE_SIZE) {
    g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
        "text too long");
    return;
  }
  g_string_append_len (x->text, text, len);
}

static CNode *
parse_xml (const char *data, size_t len, const char *name, char **err)
{
  static const GMarkupParser parser = { xml_start, xml_end, xml_text, NULL,
    NULL
  };
  XmlConv x = { g_ptr_array_new (), g_string_new (NULL), NULL, MAX_NODES };
  GMarkupParseContext *ctx;
  GError *gerr = NULL;
  CNode *root = NULL;

  ctx = g_markup_parse_context_new (&parser, G_MARKUP_PREFIX_ERROR_POSITION,
      &x, NULL);
  if (!g_markup_parse_context_parse (ctx, data, len, &gerr) ||
      !g_markup_parse_context_end_parse (ctx, &gerr)) {
    *err = g_strdup_printf ("calibration file '%s': invalid XML: %s", name,
        gerr ? gerr->message : "parse error");
    g_clear_error (&gerr);
    cnode_free (x.root);
  } else if (!x.root || x.root->kind != N_MAP) {
    *err = g_strdup_printf ("calibration file '%s': XML has no "
        "<opencv_storage> element with children", name);
    cnode_free (x.root);
  } else {
    root = x.root;
  }
  g_markup_parse_context_free (ctx);
  g_ptr_array_free (x.stack, TRUE);
  g_string_free (x.text, TRUE);
  return root;
}

/* ------------------------------------------------------------ readers */

typedef struct
{
  const char *name;
  char **err;
} Ctx;

static int G_GNUC_PRINTF (2, 3)
fail (Ctx * c, const char *fmt, ...)
{
  va_list ap;
  char *msg;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  *c->err = g_strdup_printf ("calibration file '%s': %s", c->name, msg);
  g_free (msg);
  return -1;
}

/* A matrix or vector with exactly @n numbers. */
static int
get_numbers (Ctx * c, const CNode * parent, const char *key, double *out,
    int n)
{
  const CNode *node = cnode_get (parent, key);
  double tmp[64];
  int got;

  if (!node)
    return fail (c, "'%s' is missing", key);
  got = collect_numbers (node, tmp, 64, 0, 0);
  if (got < 0)
    return fail (c, "'%s' is not a list of numbers", key);
  if (got != n)
    return fail (c, "'%s' has %d values, expected %d", key, got, n);
  memcpy (out, tmp, sizeof (double) * n);
  return 0;
}

/* A distortion vector: 0..14 numbers. */
static int
get_dist (Ctx * c, const CNode * parent, const char *key, MbCamCalib * cam)
{
  const CNode *node = cnode_get (parent, key);
  double tmp[64];
  int got;

  if (!node)
    return fail (c, "'%s' is missing", key);
  got = collect_numbers (node, tmp, 64, 0, 0);
  if (got < 0)
    return fail (c, "'%s' is not a list of numbers", key);
  if (got > MB_CALIB_MAX_D)
    return fail (c, "'%s' has %d values, at most %d are supported", key, got,
        MB_CALIB_MAX_D);
  memset (cam->D, 0, sizeof (cam->D));
  memcpy (cam->D, tmp, sizeof (double) * got);
  cam->n_d = got;
  return 0;
}

static int
get_int (Ctx * c, const CNode * parent, const char *key, int *out,
    gboolean required)
{
  const CNode *node = cnode_get (parent, key);
  double v;

  if (!node) {
    if (required)
      return fail (c, "'%s' is missing", key);
    return 1;
  }
  if (node->kind != N_SCALAR || !node->text || !parse_double (node->text, &v)
      || v != floor (v) || v < 0 || v > 65535)
    return fail (c, "'%s' is not a valid image dimension", key);
  *out = (int) v;
  return 0;
}

static const char *
get_string (const CNode * parent, const char *key)
{
  const CNode *node = cnode_get (parent, key);
  if (!node || node->kind != N_SCALAR)
    return NULL;
  return node->text;
}

/* Model from a name (ROS / Kalibr / our optional OpenCV key). */
static int
model_from_name (Ctx * c, const char *model, const char *key,
    MbDistModel * out)
{
  if (!g_ascii_strcasecmp (model, "plumb_bob") ||
      !g_ascii_strcasecmp (model, "radtan") ||
      !g_ascii_strcasecmp (model, "radial-tangential"))
    *out = MB_DIST_PLUMB_BOB;
  else if (!g_ascii_strcasecmp (model, "rational_polynomial"))
    *out = MB_DIST_RATIONAL;
  else if (!g_ascii_strcasecmp (model, "equidistant") ||
      !g_ascii_strcasecmp (model, "fisheye"))
    *out = MB_DIST_EQUIDISTANT;
  else
    return fail (c, "unsupported %s '%s' (supported: plumb_bob, radtan, "
        "rational_polynomial, equidistant, fisheye)", key, model);
  return 0;
}

static int
check_model (Ctx * c, MbCamCalib * cam, const char *what)
{
  switch (cam->model) {
    case MB_DIST_EQUIDISTANT:
      if (cam->n_d != 4)
        return fail (c, "%s: the equidistant (fisheye) model needs 4 "
            "distortion coefficients, got %d", what, cam->n_d);
      break;
    case MB_DIST_RATIONAL:
      if (cam->n_d != 8 && cam->n_d != 12 && cam->n_d != 14)
        return fail (c, "%s: the rational_polynomial model needs 8 "
            "distortion coefficients (12 or 14 with thin prism / tilt), got "
            "%d", what, cam->n_d);
      if (cam->n_d == 14 && (cam->D[12] != 0 || cam->D[13] != 0))
        return fail (c, "%s: tilted-sensor coefficients (tauX, tauY) are "
            "not supported", what);
      break;
    case MB_DIST_PLUMB_BOB:
      if (cam->n_d != 0 && cam->n_d != 4 && cam->n_d != 5)
        return fail (c, "%s: the plumb_bob model needs 4 or 5 distortion "
            "coefficients, got %d", what, cam->n_d);
      break;
    default:
      break;
  }
  return 0;
}

/* Default model for an OpenCV file, from the coefficient count. */
static MbDistModel
model_from_count (int n)
{
  if (n == 0)
    return MB_DIST_NONE;
  if (n >= 8)
    return MB_DIST_RATIONAL;
  return MB_DIST_PLUMB_BOB;
}

static int
check_K (Ctx * c, const double *K, const char *what)
{
  if (!(K[0] > 0) || !(K[4] > 0) || K[6] != 0 || K[7] != 0 || K[8] != 1)
    return fail (c, "%s is not a camera matrix (need fx > 0, fy > 0, last "
        "row 0 0 1)", what);
  return 0;
}

static int
read_image_size (Ctx * c, const CNode * root, int *w, int *h)
{
  static const char *pairs[][2] = {
    {"image_width", "image_height"}, {"width", "height"},
  };
  static const char *lists[] = { "imageSize", "image_size", "resolution",
    "size"
  };
  guint i;
  int r;

  *w = *h = 0;
  for (i = 0; i < G_N_ELEMENTS (pairs); i++) {
    if (cnode_get (root, pairs[i][0])) {
      if ((r = get_int (c, root, pairs[i][0], w, TRUE)) != 0)
        return r;
      if ((r = get_int (c, root, pairs[i][1], h, TRUE)) != 0)
        return r;
      return 0;
    }
  }
  for (i = 0; i < G_N_ELEMENTS (lists); i++) {
    if (cnode_get (root, lists[i])) {
      double v[2];
      if (get_numbers (c, root, lists[i], v, 2) != 0)
        return -1;
      if (v[0] < 0 || v[1] < 0 || v[0] > 65535 || v[1] > 65535 ||
          v[0] != floor (v[0]) || v[1] != floor (v[1]))
        return fail (c, "'%s' is not a valid image size", lists[i]);
      *w = (int) v[0];
      *h = (int) v[1];
      return 0;
    }
  }
  return 0;
}

static void
identity (double *m)
{
  memset (m, 0, 9 * sizeof (double));
  m[0] = m[4] = m[8] = 1;
}

static const char *
first_key (const CNode * root, const char *a, const char *b)
{
  if (cnode_get (root, a))
    return a;
  if (b && cnode_get (root, b))
    return b;
  return NULL;
}

static int
read_opencv_stereo (Ctx * c, const CNode * root, MbCalib * out)
{
  int i, w, h;
  const char *model = get_string (root, "distortion_model");

  if (read_image_size (c, root, &w, &h) != 0)
    return -1;
  out->n_cams = 2;
  for (i = 0; i < 2; i++) {
    MbCamCalib *cam = &out->cam[i];
    char mk[3] = { 'M', (char) ('1' + i), 0 }, kk[3] = {
    'K', (char) ('1' + i), 0}, dk[3] = {
    'D', (char) ('1' + i), 0};
    const char *kname = first_key (root, mk, kk);

    if (!kname)
      return fail (c, "neither '%s' nor '%s' (camera matrix) is present", mk,
          kk);
    if (get_numbers (c, root, kname, cam->K, 9) != 0 ||
        check_K (c, cam->K, kname) != 0 || get_dist (c, root, dk, cam) != 0)
      return -1;
    if (model) {
      if (model_from_name (c, model, "distortion_model", &cam->model) != 0)
        return -1;
    } else {
      cam->model = model_from_count (cam->n_d);
    }
    if (check_model (c, cam, dk) != 0)
      return -1;
    cam->width = w;
    cam->height = h;
  }
  if (get_numbers (c, root, "R", out->R, 9) != 0 ||
      get_numbers (c, root, "T", out->T, 3) != 0)
    return -1;
  out->has_extrinsics = 1;
  if (cnode_get (root, "R1") || cnode_get (root, "P1")) {
    if (get_numbers (c, root, "R1", out->cam[0].R, 9) != 0 ||
        get_numbers (c, root, "R2", out->cam[1].R, 9) != 0 ||
        get_numbers (c, root, "P1", out->cam[0].P, 12) != 0 ||
        get_numbers (c, root, "P2", out->cam[1].P, 12) != 0)
      return -1;
    out->cam[0].has_rect = out->cam[1].has_rect = 1;
  }
  return 0;
}

/* OpenCV mono calibration or ROS camera_info: one camera. */
static int
read_single (Ctx * c, const CNode * root, MbCamCalib * cam, int *format)
{
  const char *kname = first_key (root, "camera_matrix", "cameraMatrix");
  const char *dname = first_key (root, "distortion_coefficients",
      "distCoeffs");
  const char *model = get_string (root, "distortion_model");
  const CNode *rn = cnode_get (root, "rectification_matrix");
  const CNode *pn = cnode_get (root, "projection_matrix");

  *format = model ? FMT_ROS : FMT_OPENCV_MONO;
  if (!kname)
    return fail (c, "'camera_matrix' is missing");
  if (get_numbers (c, root, kname, cam->K, 9) != 0 ||
      check_K (c, cam->K, kname) != 0)
    return -1;
  if (dname) {
    if (get_dist (c, root, dname, cam) != 0)
      return -1;
  } else if (model) {
    return fail (c, "'distortion_coefficients' is missing");
  }
  if (model) {
    if (model_from_name (c, model, "distortion_model", &cam->model) != 0)
      return -1;
  } else {
    cam->model = model_from_count (cam->n_d);
  }
  if (check_model (c, cam, "distortion_coefficients") != 0)
    return -1;
  if (read_image_size (c, root, &cam->width, &cam->height) != 0)
    return -1;
  if (rn || pn) {
    if (!rn)
      identity (cam->R);
    else if (get_numbers (c, root, "rectification_matrix", cam->R, 9) != 0)
      return -1;
    if (!pn)
      return fail (c, "'rectification_matrix' given without "
          "'projection_matrix'");
    if (get_numbers (c, root, "projection_matrix", cam->P, 12) != 0)
      return -1;
    if (!(cam->P[0] > 0) || !(cam->P[5] > 0))
      return fail (c, "'projection_matrix' has no positive focal lengths");
    cam->has_rect = 1;
  }
  return 0;
}

static int
read_kalibr_cam (Ctx * c, const CNode * root, const char *cname,
    MbCamCalib * cam)
{
  const CNode *node = cnode_get (root, cname);
  const char *s;
  double v[4], res[2];

  if (!node || node->kind != N_MAP)
    return fail (c, "'%s' is missing or not a mapping", cname);
  s = get_string (node, "camera_model");
  if (s && strcmp (s, "pinhole") != 0)
    return fail (c, "%s: camera_model '%s' is not supported (only pinhole)",
        cname, s);
  if (get_numbers (c, node, "intrinsics", v, 4) != 0)
    return -1;
  memset (cam->K, 0, sizeof (cam->K));
  cam->K[0] = v[0];
  cam->K[4] = v[1];
  cam->K[2] = v[2];
  cam->K[5] = v[3];
  cam->K[8] = 1;
  if (check_K (c, cam->K, "intrinsics") != 0)
    return -1;
  s = get_string (node, "distortion_model");
  if (!s)
    return fail (c, "%s: 'distortion_model' is missing", cname);
  if (model_from_name (c, s, "distortion_model", &cam->model) != 0)
    return -1;
  if (get_dist (c, node, "distortion_coeffs", cam) != 0)
    return -1;
  if (check_model (c, cam, cname) != 0)
    return -1;
  if (cnode_get (node, "resolution")) {
    if (get_numbers (c, node, "resolution", res, 2) != 0)
      return -1;
    if (res[0] < 1 || res[1] < 1 || res[0] > 65535 || res[1] > 65535 ||
        res[0] != floor (res[0]) || res[1] != floor (res[1]))
      return fail (c, "%s: 'resolution' is not a valid image size", cname);
    cam->width = (int) res[0];
    cam->height = (int) res[1];
  }
  return 0;
}

static int
read_kalibr (Ctx * c, const CNode * root, MbCalib * out)
{
  double T[16];
  int i;

  if (read_kalibr_cam (c, root, "cam0", &out->cam[0]) != 0)
    return -1;
  out->n_cams = 1;
  if (!cnode_get (root, "cam1"))
    return 0;
  if (read_kalibr_cam (c, root, "cam1", &out->cam[1]) != 0)
    return -1;
  if (get_numbers (c, cnode_get (root, "cam1"), "T_cn_cnm1", T, 16) != 0)
    return -1;
  if (T[12] != 0 || T[13] != 0 || T[14] != 0 || T[15] != 1)
    return fail (c, "cam1: 'T_cn_cnm1' is not a rigid transform (last row "
        "must be 0 0 0 1)");
  for (i = 0; i < 3; i++) {
    out->R[i * 3 + 0] = T[i * 4 + 0];
    out->R[i * 3 + 1] = T[i * 4 + 1];
    out->R[i * 3 + 2] = T[i * 4 + 2];
    out->T[i] = T[i * 4 + 3];
  }
  out->n_cams = 2;
  out->has_extrinsics = 1;
  return 0;
}

/* Text -> tree (a mapping), or NULL with *err set. */
static CNode *
parse_tree (const char *data, size_t len, const char *name, char **err)
{
  CNode *root;
  size_t i = 0;

  if (len > MAX_FILE_SIZE) {
    *err = g_strdup_printf ("calibration file '%s': larger than %d bytes",
        name, MAX_FILE_SIZE);
    return NULL;
  }
  if (memchr (data, 0, len)) {
    *err = g_strdup_printf ("calibration file '%s': contains NUL bytes (not "
        "a text file)", name);
    return NULL;
  }
  while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' ||
          data[i] == '\n'))
    i++;
  if (i + 3 < len && (unsigned char) data[i] == 0xEF)
    i += 3;                     /* UTF-8 BOM */
  if (i < len && data[i] == '<')
    root = parse_xml (data, len, name, err);
  else
    root = parse_yaml (data, len, name, err);
  if (!root)
    return NULL;
  /* OpenCV XML keeps its content below <opencv_storage> */
  if (root->key && strcmp (root->key, "opencv_storage") != 0) {
    *err = g_strdup_printf ("calibration file '%s': unexpected XML root "
        "element <%s> (expected <opencv_storage>)", name, root->key);
    cnode_free (root);
    return NULL;
  }
  return root;
}

/* Tree -> calibration. */
static int
interpret (const CNode * top, const char *name, MbCalib * out, int *format,
    char **err)
{
  Ctx c = { name, err };
  int fmt = FMT_UNKNOWN, r = -1;

  memset (out, 0, sizeof (*out));
  if (cnode_get (top, "cam0")) {
    fmt = FMT_KALIBR;
    r = read_kalibr (&c, top, out);
  } else if (cnode_get (top, "M1") || cnode_get (top, "K1")) {
    fmt = FMT_OPENCV_STEREO;
    r = read_opencv_stereo (&c, top, out);
  } else if (cnode_get (top, "camera_matrix") || cnode_get (top,
          "cameraMatrix")) {
    out->n_cams = 1;
    r = read_single (&c, top, &out->cam[0], &fmt);
  } else {
    fail (&c, "not a recognised calibration (expected OpenCV M1/D1/M2/D2/R/T, "
        "camera_matrix/distortion_coefficients (ROS camera_info or OpenCV "
        "mono) or a Kalibr camchain with cam0)");
  }
  if (r != 0) {
    if (!*err)
      *err = g_strdup_printf ("calibration file '%s': invalid", name);
    memset (out, 0, sizeof (*out));
    return -1;
  }
  if (format)
    *format = fmt;
  return 0;
}

int
mb_calib_parse (const char *data, size_t len, const char *name, MbCalib * out,
    int *format, char **err)
{
  CNode *root;
  int r;

  *err = NULL;
  memset (out, 0, sizeof (*out));
  root = parse_tree (data, len, name, err);
  if (!root)
    return -1;
  r = interpret (root, name, out, format, err);
  cnode_free (root);
  return r;
}

static int
read_whole (const char *path, char **data, gsize * len, char **err)
{
  GError *gerr = NULL;

  if (!path || !*path) {
    *err = g_strdup ("no calibration file given");
    return -1;
  }
  if (!g_file_get_contents (path, data, len, &gerr)) {
    *err = g_strdup_printf ("calibration file '%s': cannot read: %s", path,
        gerr->message);
    g_error_free (gerr);
    return -1;
  }
  return 0;
}

int
mb_calib_load_file (const char *path, MbCalib * out, char **err)
{
  char *data;
  gsize len;
  int r;

  *err = NULL;
  memset (out, 0, sizeof (*out));
  /* "intrinsics.yml,extrinsics.yml" (OpenCV's stereo_calib sample writes
   * the two halves to two files): unless a file has that very name */
  if (path && strchr (path, ',') && !g_file_test (path, G_FILE_TEST_EXISTS))
    return mb_calib_load_merged (path, out, err);
  if (read_whole (path, &data, &len, err) != 0)
    return -1;
  r = mb_calib_parse (data, len, path, out, NULL, err);
  g_free (data);
  return r;
}

int
mb_calib_load_merged (const char *paths, MbCalib * out, char **err)
{
  char **names = g_strsplit (paths, ",", 8), *label;
  CNode *merged = NULL;
  int i, r = -1;

  *err = NULL;
  memset (out, 0, sizeof (*out));
  label = g_strjoinv ("' + '", names);
  for (i = 0; names[i]; i++) {
    char *data;
    gsize len;
    CNode *t;
    guint k;

    if (read_whole (names[i], &data, &len, err) != 0)
      goto done;
    t = parse_tree (data, len, names[i], err);
    g_free (data);
    if (!t)
      goto done;
    if (!merged) {
      merged = t;
      continue;
    }
    /* later files add keys; a key given twice is an error */
    for (k = 0; k < t->kids->len; k++) {
      CNode *kid = g_ptr_array_index (t->kids, k);
      if (kid->key && cnode_get (merged, kid->key)) {
        *err = g_strdup_printf ("calibration file '%s': '%s' is also in an "
            "earlier file", names[i], kid->key);
        cnode_free (t);
        goto done;
      }
    }
    for (k = 0; k < t->kids->len; k++)
      g_ptr_array_add (merged->kids, g_ptr_array_index (t->kids, k));
    g_ptr_array_set_size (t->kids, 0);
    cnode_free (t);
  }
  if (merged)
    r = interpret (merged, label, out, NULL, err);
  else
    *err = g_strdup ("no calibration file given");
done:
  cnode_free (merged);
  g_free (label);
  g_strfreev (names);
  return r;
}

int
mb_calib_load_pair (const char *left, const char *right, MbCalib * out,
    char **err)
{
  MbCalib l, r;

  *err = NULL;
  memset (out, 0, sizeof (*out));
  if (mb_calib_load_file (left, &l, err) != 0)
    return -1;
  if (mb_calib_load_file (right, &r, err) != 0)
    return -1;
  if (l.n_cams != 1) {
    *err = g_strdup_printf ("calibration file '%s': left-calibration must "
        "describe one camera, it describes %d", left, l.n_cams);
    return -1;
  }
  if (r.n_cams != 1) {
    *err = g_strdup_printf ("calibration file '%s': right-calibration must "
        "describe one camera, it describes %d", right, r.n_cams);
    return -1;
  }
  if (l.cam[0].width && r.cam[0].width &&
      (l.cam[0].width != r.cam[0].width
          || l.cam[0].height != r.cam[0].height)) {
    *err = g_strdup_printf ("calibration files '%s' and '%s': image sizes "
        "differ (%dx%d vs %dx%d)", left, right, l.cam[0].width,
        l.cam[0].height, r.cam[0].width, r.cam[0].height);
    return -1;
  }
  if (l.cam[0].has_rect != r.cam[0].has_rect) {
    *err = g_strdup_printf ("calibration files '%s' and '%s': only one of "
        "them has rectification_matrix/projection_matrix", left, right);
    return -1;
  }
  out->n_cams = 2;
  out->cam[0] = l.cam[0];
  out->cam[1] = r.cam[0];
  return 0;
}
