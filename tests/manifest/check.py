#!/usr/bin/python3
"""Compares our manifest reader (tests/tools/manifest-to-json) with the oracle
(tests/oracle/yaml2json: sigs.k8s.io/yaml, the conversion kubectl uses).

  check.py oracle    OURS ORACLE   the cases below: same documents, or both fail
  check.py roundtrip OURS ORACLE   our YAML and JSON output read back to the same documents

Cases (a new case is a new file, no new code):
  scalars.yaml, cases/*   both readers succeed and give the same documents
  errors/*                both readers fail, ours with the message in errors/NAME.expect
  differences/*           intentional differences: we fail (with the message in
                          differences/NAME.expect), the oracle does not (each file says why
                          in its first comment)
A NAME.expect file holds "LINE:COL: message": our error must be "PATH:LINE:COL: message", so
a case passes only when the rule it is about fails, at the place it names.
Documents are compared as JSON values: objects ignore key order (encoding/json sorts keys,
we keep them), numbers compare by their exact text.
"""
import decimal
import glob
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd, data=None, path=None):
    if path is not None:
        with open(path, 'rb') as f:
            data = f.read()
    p = subprocess.run(cmd, input=data, capture_output=True)
    return p.returncode, p.stdout, p.stderr.decode('utf-8', 'replace')


def value_of(text):
    """A number as YAML readers hold it: integers up to 64 bits exact, others as float64
    (YAML output of JSON input such as 1.0 or 123456789012345678901234567890 is read
    back as such a value)."""
    d = decimal.Decimal(text)
    if d == d.to_integral_value() and abs(d) < 2**64:
        return ('num', int(d))
    return ('num', float(d))


def parse_docs(out, exact=True):
    """One JSON document per line; numbers kept as text (exact) or as values."""
    num = (lambda s: ('num', s)) if exact else value_of
    return [json.loads(line, parse_int=num, parse_float=num)
            for line in out.decode('utf-8').splitlines()]


def ours_docs(ours, path, exact=True):
    rc, out, err = run([ours, path])
    return rc, (parse_docs(out, exact) if rc == 0 else err)


def oracle_docs(oracle, data, exact=True):
    rc, out, err = run([oracle], data=data)
    return rc, (parse_docs(out, exact) if rc == 0 else err)


def compare(name, a, b, failures):
    if len(a) != len(b):
        failures.append(f'{name}: {len(a)} documents, expected {len(b)}')
        return
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            failures.append(f'{name}: document {i} differs:\n  ours:   {x}\n  oracle: {y}')


def case_files(sub):
    return sorted(p for p in glob.glob(os.path.join(HERE, sub, '*'))
                  if os.path.isfile(p) and not p.endswith('.expect'))


def check_message(path, message, failures):
    """Our reader's error for the case at path is the one its .expect file states."""
    try:
        with open(path + '.expect', encoding='utf-8') as f:
            expected = f.read().rstrip('\n')
    except FileNotFoundError:
        failures.append(f'{path}: no {os.path.basename(path)}.expect stating the error')
        return
    if not expected or f'{path}:{expected}' not in message:
        failures.append(f'{path}: expected the error "{path}:{expected}", got: {message}')


def check_oracle(ours, oracle):
    failures, count = [], 0
    for path in [os.path.join(HERE, 'scalars.yaml')] + case_files('cases'):
        count += 1
        with open(path, 'rb') as f:
            data = f.read()
        rc1, a = ours_docs(ours, path)
        rc2, b = oracle_docs(oracle, data)
        if rc1 or rc2:
            failures.append(f'{path}: ours rc={rc1} {a if rc1 else ""} oracle rc={rc2} '
                            f'{b if rc2 else ""}')
            continue
        compare(path, a, b, failures)
    for path in case_files('errors'):
        count += 1
        with open(path, 'rb') as f:
            data = f.read()
        rc1, a = ours_docs(ours, path)
        rc2, b = oracle_docs(oracle, data)
        if not rc1 or not rc2:
            failures.append(f'{path}: must fail in both: ours rc={rc1}, oracle rc={rc2}')
        else:
            check_message(path, a, failures)
    for path in case_files('differences'):
        count += 1
        with open(path, 'rb') as f:
            data = f.read()
        rc1, a = ours_docs(ours, path)
        rc2, b = oracle_docs(oracle, data)
        if not rc1 or rc2:
            failures.append(f'{path}: expected ours to fail and the oracle to succeed: '
                            f'ours rc={rc1}, oracle rc={rc2} {b if rc2 else ""}')
        else:
            check_message(path, a, failures)
    return failures, count


def check_roundtrip(ours, oracle):
    shared = os.environ.get('COCO_SHARED', os.path.join(HERE, '..', '..', '..', 'shared'))
    paths = sorted(glob.glob(os.path.join(shared, 'samples', '*.yaml')))
    if not paths:
        return [f'no samples under {shared}/samples'], 0
    paths += [os.path.join(HERE, 'scalars.yaml')] + case_files('cases')
    failures, count = [], 0
    for path in paths:
        with open(path, 'rb') as f:
            data = f.read()
        rc, expected = ours_docs(ours, path, exact=False)
        if rc:
            # Our reader refuses it: so must kubectl's.
            rc2, _ = oracle_docs(oracle, data)
            if rc2 == 0:
                failures.append(f'{path}: ours fails, oracle reads it: {expected}')
            continue
        count += 1
        rc, yaml_text, err = run([ours, '--yaml', path])
        if rc:
            failures.append(f'{path}: writing YAML failed: {err}')
            continue
        rc, again = oracle_docs(oracle, yaml_text, exact=False)
        if rc:
            failures.append(f'{path}: the oracle cannot read our YAML: {again}\n'
                            f'{yaml_text.decode()}')
            continue
        compare(path + ' (YAML written, read by the oracle)', again, expected, failures)
        rc, pretty, err = run([ours, '--pretty', path])
        if rc:
            failures.append(f'{path}: writing JSON failed: {err}')
            continue
        docs, text, idx = [], pretty.decode('utf-8'), 0
        decoder = json.JSONDecoder(parse_int=value_of, parse_float=value_of)
        while idx < len(text):
            while idx < len(text) and text[idx] in ' \n':
                idx += 1
            if idx >= len(text):
                break
            doc, idx = decoder.raw_decode(text, idx)
            docs.append(doc)
        compare(path + ' (JSON written)', docs, expected, failures)
    return failures, count


def main():
    mode, ours, oracle = sys.argv[1:4]
    failures, count = (check_oracle if mode == 'oracle' else check_roundtrip)(ours, oracle)
    for f in failures:
        print('FAIL', f)
    print(f'{count - len(failures) if count >= len(failures) else 0} passed, '
          f'{len(failures)} failed')
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()
