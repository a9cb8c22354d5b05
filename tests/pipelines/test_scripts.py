#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The job scripts as templates: each parses (sh -n), prints its documented
usage with --help, refuses bad arguments with one clear line, and — with the
membound plugin out of reach — names the missing element instead of failing
obscurely. make-frame-bank.py writes the documented layout."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

import h5py  # noqa: E402
import numpy as np  # noqa: E402

P = os.path.join(e2e.SRC, 'pipelines')
SCRIPTS = ['convert.sh', 'record-stereo.sh', 'avatar.sh']


def main():
    d = e2e.tmpdir('scripts')
    for s in SCRIPTS:
        path = os.path.join(P, s)
        r = e2e.run(['sh', '-n', path])
        e2e.check(r.rc == 0, '%s parses' % s, r)
        r = e2e.run(['sh', path, '--help'])
        e2e.check(r.rc == 0 and 'Usage:' in r.out and 'pipelines/%s' % s in r.out,
                  '%s --help prints its usage' % s, r)
        r = e2e.run(['sh', path, '--no-such-option', 'x'])
        e2e.check(r.rc == 1 and 'unknown option --no-such-option' in r.err, '%s: bad option' % s, r)
    e2e.ok('scripts parse and document themselves')

    bank = os.path.join(d, 'bank.h5')
    r = e2e.run([e2e.PY, os.path.join(P, 'make-frame-bank.py'), '-o', bank, '--size', '64x48',
                 '--idle-frames', '4', '--mouth-frames', '3'])
    e2e.check(r.rc == 0, 'make-frame-bank.py', r)
    with h5py.File(bank, 'r') as f:
        e2e.check(f['idle/data'].shape == (8, 48, 64, 3), 'idle loop is ping-pong (8 frames)')
        e2e.check(np.array_equal(f['idle/data'][0], f['idle/data'][7]), 'loop ends where it starts')
        e2e.check(f['mouth/data'].shape[0] == 3, '3 mouth frames')
        e2e.check(list(np.diff(f['idle/timestamp'])) == [40_000_000] * 7, '25 fps timestamps')
        e2e.check('video/x-raw' in e2e.as_str(f['idle'].attrs['caps']), 'caps attribute')
    r = e2e.run([e2e.PY, os.path.join(P, 'make-frame-bank.py'), '-o', bank + 'j', '--jpeg',
                 '--size', '64x48'])
    e2e.check(r.rc == 0, 'make-frame-bank.py --jpeg', r)
    with h5py.File(bank + 'j', 'r') as f:
        e2e.check(bytes(f['idle/data'][0][:2]) == b'\xff\xd8', 'JPEG rows')
    e2e.ok('frame banks written')

    # no membound plugin: a clear error naming the element
    noplug = {'GST_PLUGIN_PATH_1_0': os.path.join(d, 'empty'), 'GST_PLUGIN_PATH': '',
              'GST_REGISTRY_1_0': os.path.join(d, 'registry.bin'), 'MB_BUILD': ''}
    os.makedirs(noplug['GST_PLUGIN_PATH_1_0'])
    bag = os.path.join(d, 'x.bag')
    open(bag, 'w').close()
    for argv, elem in ((['convert.sh', bag, os.path.join(d, 'o.h5')], 'rosbagsrc'),
                       (['record-stereo.sh', '--dry-run', os.path.join(d, 'o.h5')], 'stereorectify'),
                       (['avatar.sh', bank], 'hdf5src')):
        r = e2e.run(['sh', os.path.join(P, argv[0])] + argv[1:], env=noplug)
        e2e.check(r.rc == 1 and ("element '%s' is not available" % elem) in r.err,
                  '%s names the missing element %s' % (argv[0], elem), r)
    r = e2e.run([e2e.CONVERT, '--plugin-path', noplug['GST_PLUGIN_PATH_1_0'], bag], env=noplug)
    # run from the build tree, membound-convert finds the plugin next door unless
    # --plugin-path is given; with an empty one it must say which element is missing
    e2e.check(r.rc == 1 and "element '" in r.err and len(r.err.strip().splitlines()) == 1,
              'membound-convert names the missing element in one line', r)
    e2e.ok('missing elements are named')
    e2e.cleanup(d)


if __name__ == '__main__':
    main()
