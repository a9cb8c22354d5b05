#!/usr/bin/python3
"""Oracle test for gst/common/rosmsg.c.

Definitions and serialized bytes come from Debian's genpy message classes
(python3-sensor-msgs, python3-geometry-msgs, python3-std-msgs,
python3-rosgraph-msgs) and from genpy.dynamic for hand-written definitions:
`_full_text` is the definition text exactly as rosbag stores it,
`serialize()` gives the wire bytes. The expected field values are dumped
from a message deserialized by genpy, walking genpy's own slot types, and
written next to the bytes; the C program (rosmsg_walkdump) parses the
definition with our module, walks the bytes and must produce the same dump.

Usage: rosmsg_oracle.py WALKDUMP_EXE            (run the test)
       rosmsg_oracle.py --write-corpus SRCDIR   (regenerate fuzz seeds)
Must run with /usr/bin/python3 (Debian's ROS modules).
"""
import io
import os
import shutil
import subprocess
import sys

import genpy
import genpy.dynamic
from geometry_msgs.msg import (Point, Point32, Polygon, PolygonStamped, Pose,
                               PoseStamped, Quaternion, Transform,
                               TwistWithCovarianceStamped, Vector3)
from rosgraph_msgs.msg import Log
from sensor_msgs.msg import (CameraInfo, CompressedImage, Image, Imu,
                             JointState, NavSatFix, NavSatStatus,
                             PointCloud2, PointField, RegionOfInterest)
from std_msgs.msg import Empty, Header, String

INTS = {'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64',
        'uint64', 'char', 'byte'}
FLOATS = {'float32', 'float64'}
PRIMS = INTS | FLOATS | {'bool', 'time', 'duration'}

# Hand-written definitions (genpy.dynamic parses them with genmsg): fixed
# arrays, strings, constants (string constants with '#' and '='), the
# deprecated char/byte aliases, unqualified names resolved in the enclosing
# package, a type with the same short name in another package.
CUSTOM_TEXT = """# a hand-written message exercising the grammar
int32 FOO=1   # a comment
string NAME=some text # with = and # chars
uint8 FLAG = 7
Header header
time t
duration d
char c
byte b
bool ok
int64 i64
uint64 u64
float32 f32
float64 f64
string[2] names
float32[3] f3
Sub[2] subs
Sub[] vsubs
other/Sub osub
byte[] bb
char[] cc
uint8[4] u4
int8[] i8
uint16[] u16
time[2] times
duration[] durs
Fixed[3] fixed3
string last
================================================================================
MSG: std_msgs/Header
# Standard metadata
uint32 seq
time stamp
string frame_id
================================================================================
MSG: foo/Sub
int16 x
string s
Fixed fx
================================================================================
MSG: other/Sub
float64 y
================================================================================
MSG: foo/Fixed
uint8 A=1
int32 a
uint8[2] b
Pt p
================================================================================
MSG: foo/Pt
float32 x
float32 y
"""

# Only fixed-size content: an independent check of fixed_size.
FIXED_TEXT = """float64 x
bool[3] flags
Inner[2] inner
time t
================================================================================
MSG: bar/Inner
int8 a
uint32[2] b
duration d
"""


def custom_types():
    mods = genpy.dynamic.generate_dynamic('foo/Bar', CUSTOM_TEXT)
    fixed = genpy.dynamic.generate_dynamic('bar/Fixed', FIXED_TEXT)
    DYNAMIC.update(mods)
    DYNAMIC.update(fixed)
    return mods, fixed


def split_type(t):
    if '[' in t:
        base, rest = t.split('[', 1)
        n = rest[:-1]
        return base, (int(n) if n else 0)
    return t, None


def leaf(base, v):
    if base == 'bool':
        return str(int(v))
    if base in INTS:
        if isinstance(v, (bytes, bytearray)):
            return str(v[0])
        return str(int(v))
    if base in FLOATS:
        return '%.17g' % v
    if base in ('time', 'duration'):
        return '%d:%d' % (v.secs, v.nsecs)
    if base == 'string':
        b = v.encode('utf-8') if isinstance(v, str) else bytes(v)
        return 's:' + b.hex()
    raise ValueError(base)


def dump(msg, prefix, out):
    for name, typ in zip(msg.__slots__, msg._slot_types):
        v = getattr(msg, name)
        p = prefix + name
        base, arr = split_type(typ)
        if arr is None:
            if base in PRIMS or base == 'string':
                out.append('%s = %s' % (p, leaf(base, v)))
            else:
                dump(v, p + '.', out)
            continue
        out.append('%s.len = %d' % (p, len(v)))
        if base in ('uint8', 'char'):
            out.append('%s = x:%s' % (p, bytes(v).hex()))
        elif base in PRIMS or base == 'string':
            for i, x in enumerate(v):
                out.append('%s[%d] = %s' % (p, i, leaf(base, x)))
        else:
            for i, m in enumerate(v):
                dump(m, '%s[%d].' % (p, i), out)


DYNAMIC = {}


def msg_class(name):
    return DYNAMIC.get(name) or genpy.message.get_message_class(name)


def is_fixed(cls):
    for typ in cls._slot_types:
        base, arr = split_type(typ)
        if arr == 0 or base == 'string':
            return False
        if base not in PRIMS and not is_fixed(msg_class(base)):
            return False
    return True


def hdr(seq, sec, nsec, frame):
    return Header(seq=seq, stamp=genpy.Time(sec, nsec), frame_id=frame)


def cases():
    mods, fixedmods = custom_types()
    Bar, Sub, OSub = mods['foo/Bar'], mods['foo/Sub'], mods['other/Sub']
    Fixed, Pt = mods['foo/Fixed'], mods['foo/Pt']
    BFixed, BInner = fixedmods['bar/Fixed'], fixedmods['bar/Inner']

    def fx(a):
        return Fixed(a=a, b=bytes([a & 255, 9]), p=Pt(x=a * 0.5, y=-1.25))

    out = []
    img = Image(header=hdr(7, 1700000000, 123456789, 'camera'), height=3,
                width=4, encoding='rgb8', is_bigendian=0, step=12,
                data=bytes(range(36)))
    out.append(('image', img))
    out.append(('image_empty', Image()))
    out.append(('compressed', CompressedImage(
        header=hdr(1, 1600000000, 999999999, 'cam/left'), format='jpeg',
        data=b'\xff\xd8\xff\xe0' + bytes(range(60)) + b'\xff\xd9')))
    out.append(('jointstate', JointState(
        header=hdr(3, 12, 5, ''), name=['shoulder', 'elbow', 'wrist\u00e9'],
        position=[0.1, -2.5, 3.141592653589793], velocity=[],
        effort=[1e-300, -1e300])))
    out.append(('jointstate_empty', JointState()))
    out.append(('posestamped', PoseStamped(
        header=hdr(9, 1234, 5678, 'map'),
        pose=Pose(position=Point(1.5, -2.25, 1e10),
                  orientation=Quaternion(0.0, 0.0, 0.7071067811865476,
                                         0.7071067811865476)))))
    out.append(('camerainfo', CameraInfo(
        header=hdr(2, 5, 6, 'cam'), height=480, width=640,
        distortion_model='plumb_bob', D=[0.1, -0.2, 0.001, 0.0, 0.05],
        K=[500.0, 0, 320, 0, 500, 240, 0, 0, 1],
        R=[1.0, 0, 0, 0, 1, 0, 0, 0, 1],
        P=[500.0, 0, 320, 0, 0, 500, 240, 0, 0, 0, 1, 0],
        binning_x=1, binning_y=2,
        roi=RegionOfInterest(10, 20, 30, 40, True))))
    out.append(('navsatfix', NavSatFix(
        header=hdr(4, 100, 200, 'gps'),
        status=NavSatStatus(status=-1, service=NavSatStatus.SERVICE_GPS),
        latitude=48.1, longitude=11.5, altitude=-3.0,
        position_covariance=[float(i) / 3 for i in range(9)],
        position_covariance_type=NavSatFix.COVARIANCE_TYPE_APPROXIMATED)))
    out.append(('pointcloud2', PointCloud2(
        header=hdr(5, 1, 2, 'lidar'), height=1, width=2,
        fields=[PointField('x', 0, PointField.FLOAT32, 1),
                PointField('y', 4, PointField.FLOAT32, 1),
                PointField('intensity', 8, PointField.UINT8, 1)],
        is_bigendian=False, point_step=9, row_step=18,
        data=bytes(range(18)), is_dense=True)))
    out.append(('imu', Imu(header=hdr(6, 7, 8, 'imu'),
                           orientation=Quaternion(0.1, 0.2, 0.3, 0.9),
                           orientation_covariance=[-1.0] + [0.0] * 8,
                           angular_velocity=Vector3(1, 2, 3),
                           linear_acceleration=Vector3(0.0, -9.81, 0.0))))
    out.append(('polygon', PolygonStamped(
        header=hdr(0, 0, 0, 'p'),
        polygon=Polygon(points=[Point32(0.1, 0.2, 0.3),
                                Point32(-1, 2, 3e30)]))))
    out.append(('twistcov', TwistWithCovarianceStamped()))
    out[-1][1].twist.covariance = [float(i) for i in range(36)]
    out.append(('log', Log(header=hdr(1, 2, 3, ''), level=Log.WARN,
                           name='/node', msg='hello # = world',
                           file='x.py', function='f', line=42,
                           topics=['/a', '/b/c', ''])))
    out.append(('string', String(data='plain')))
    out.append(('empty', Empty()))
    out.append(('transform', Transform(Vector3(1, 2, 3),
                                       Quaternion(0, 0, 0, 1))))
    bar = Bar(header=hdr(11, 4000000000, 1, 'f'),
              t=genpy.Time(4294967295, 999999999),
              d=genpy.Duration(-3, 250000000), c=255, b=-128, ok=True,
              i64=-9223372036854775808, u64=18446744073709551615,
              f32=0.1, f64=-0.0, names=['a', 'bcd'], f3=[1.5, -2.0, 1e-30],
              subs=[Sub(x=-1, s='one', fx=fx(1)), Sub(x=32767, s='', fx=fx(2))],
              vsubs=[Sub(x=5, s='v', fx=fx(3))], osub=OSub(y=2.5),
              bb=[-1, 0, 127], cc=b'xyz', u4=b'\x00\x01\xfe\xff',
              i8=[-128, 127], u16=[0, 65535, 4660],
              times=[genpy.Time(1, 2), genpy.Time(3, 4)],
              durs=[genpy.Duration(-1, 0), genpy.Duration(5, 6)],
              fixed3=[fx(7), fx(8), fx(9)], last='end')
    out.append(('custom', bar))
    out.append(('custom_default', Bar()))
    out.append(('fixed', BFixed(x=1.0, flags=[True, False, True],
                                inner=[BInner(a=-5, b=[1, 2],
                                              d=genpy.Duration(1, 2)),
                                       BInner(a=6, b=[3, 4],
                                              d=genpy.Duration(-7, 8))],
                                t=genpy.Time(9, 10))))
    return out


def serialize(msg):
    buf = io.BytesIO()
    msg.serialize(buf)
    return buf.getvalue()


def write_case(d, name, msg):
    cls = type(msg)
    data = serialize(msg)
    back = cls()
    back.deserialize(data)
    lines = []
    has_header = bool(cls._slot_types) and cls._slot_types[0] == 'std_msgs/Header'
    if has_header:
        st = back.header.stamp
        lines.append('@stamp_ns = %d' % (st.secs * 1000000000 + st.nsecs))
    else:
        lines.append('@noheader')
    if is_fixed(cls):
        lines.append('@fixed_size = %d' % len(serialize(cls())))
    else:
        lines.append('@fixed_size = 0')
    lines.append('@consumed = %d' % len(data))
    dump(back, '', lines)
    with open(os.path.join(d, name + '.type'), 'w') as f:
        f.write(cls._type)
    with open(os.path.join(d, name + '.def'), 'w') as f:
        f.write(cls._full_text)
    with open(os.path.join(d, name + '.bin'), 'wb') as f:
        f.write(data)
    with open(os.path.join(d, name + '.expect'), 'w') as f:
        f.write('\n'.join(lines) + '\n')


def write_corpus(srcdir):
    ddir = os.path.join(srcdir, 'corpus_rosmsg_def')
    wdir = os.path.join(srcdir, 'corpus_rosmsg_walk')
    for d in (ddir, wdir):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    seen = set()

    def shrink(full):
        # keep seeds small: long definitions lose their full-line comments
        if len(full) <= 3000:
            return full
        return '\n'.join(ln for ln in full.split('\n')
                         if not ln.lstrip().startswith('#')) + '\n'

    for name, msg in cases():
        cls = type(msg)
        text = cls._type.encode() + b'\n' + shrink(cls._full_text).encode()
        if cls._type not in seen:
            seen.add(cls._type)
            with open(os.path.join(ddir, cls._type.replace('/', '_')), 'wb') as f:
                f.write(text)
        with open(os.path.join(wdir, name), 'wb') as f:
            f.write(text + b'\0' + serialize(msg))
    # a few invalid definitions, so the error paths are seeded too
    bad = {
        'bad_recursive': 'a/R\nB b\n' + '=' * 80 + '\nMSG: a/B\nR r\n',
        'bad_unknown': 'a/R\nHeader header\nNope[] n\n',
        'bad_array': 'a/R\nuint8[0] a\nstring S=x # y = z\n',
    }
    for name, text in bad.items():
        with open(os.path.join(ddir, name), 'w') as f:
            f.write(text)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == '--write-corpus':
        write_corpus(sys.argv[2])
        return 0
    exe = sys.argv[1]
    base = os.environ.get('MB_TEST_TMPDIR', '/tmp')
    d = os.path.join(base, 'rosmsg_oracle')
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    names = []
    for name, msg in cases():
        write_case(d, name, msg)
        names.append(name)
    with open(os.path.join(d, 'cases.txt'), 'w') as f:
        f.write('\n'.join(names) + '\n')
    r = subprocess.run([exe, d])
    if r.returncode == 0:
        shutil.rmtree(d, ignore_errors=True)
    return r.returncode


if __name__ == '__main__':
    sys.exit(main())
