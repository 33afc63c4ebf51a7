/**
 * A restricted pickle virtual machine: it decodes the opcodes `torch.save` emits (protocol 2, plus the common
 * protocol 3–5 ones) into plain values and executes nothing. Globals are resolved against a fixed allow-list
 * given by the caller; any other global (`os.system`, `builtins.eval`, …) is refused when it is *named*, before
 * anything could call it. Every read is bounds-checked and every opcode consumes input, so a malformed pickle
 * fails with an error instead of looping.
 */
import { CheckpointError } from './errors.js';

/** A Python tuple (kept distinct from lists). */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** A Python dict / OrderedDict; `attrs` receives a BUILD state (e.g. a state dict's `_metadata`). */
export class PyDict {
  readonly map = new Map<PyKey, PyValue>();
  attrs: PyValue = null;
}

/** A reference to an allowed global, e.g. `torch FloatStorage`. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** An object an allowed callable returned (tensors, storages); opaque to the VM. */
export class PyOpaque<T = unknown> {
  constructor(
    readonly kind: string,
    readonly value: T,
  ) {}
}

export type PyKey = string | number | bigint | boolean | null | PyValue;
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyTuple
  | PyValue[]
  | PyDict
  | PyGlobal
  | PyOpaque
  | Set<PyValue>;

/** What the caller allows: which globals may be named, how to call them, how to resolve persistent ids. */
export interface UnpicklerHooks {
  /** Return true when `module.name` may be loaded. Anything else is refused. */
  allowGlobal(module: string, name: string): boolean;
  /** REDUCE: call an allowed global with positional arguments. */
  call(fn: PyGlobal, args: PyValue[]): PyValue;
  /** BINPERSID / PERSID: turn a persistent id (torch: a storage tuple) into a value. */
  persistentLoad(pid: PyValue): PyValue;
}

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

/** Run the pickle in `bytes` and return the value STOP leaves on the stack. */
export function unpickle(file: string, bytes: Uint8Array, hooks: UnpicklerHooks): PyValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder('utf-8', { fatal: true });
  const latin1 = new TextDecoder('latin1');
  const stack: StackItem[] = [];
  const memo = new Map<number, PyValue>();
  let pos = 0;
  let opPos = 0;

  const fail = (msg: string): never => {
    throw new CheckpointError(file, `pickle: ${msg} (at byte ${opPos})`);
  };
  const need = (n: number): void => {
    if (n < 0 || pos + n > bytes.byteLength) fail(`truncated: needs ${n} more bytes`);
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++]!;
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = (): number => {
    need(4);
    const v = view.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(bytes.byteLength)) fail(`length ${v} exceeds the pickle size`);
    return Number(v);
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const line = (): string => {
    const nl = bytes.indexOf(0x0a, pos);
    if (nl < 0) fail('unterminated text argument');
    const s = latin1.decode(bytes.subarray(pos, nl));
    pos = nl + 1;
    return s;
  };
  const utf8 = (b: Uint8Array): string => {
    try {
      return text.decode(b);
    } catch {
      return fail('invalid UTF-8 string');
    }
  };
  const pop = (): PyValue => {
    if (stack.length === 0) fail('stack underflow');
    const v = stack.pop()!;
    if (v === MARK) fail('unexpected MARK on the stack');
    return v as PyValue;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (stack.length === 0 || v === MARK) fail('stack underflow');
    return v as PyValue;
  };
  const popMark = (): PyValue[] => {
    const at = stack.lastIndexOf(MARK);
    if (at < 0) fail('no MARK on the stack');
    const items = stack.splice(at) as PyValue[];
    items.shift();
    return items;
  };
  const global = (module: string, name: string): PyGlobal => {
    if (!hooks.allowGlobal(module, name)) {
      throw new CheckpointError(file, `refusing to load global ${module}.${name}: only tensor-rebuilding globals are allowed`);
    }
    return new PyGlobal(module, name);
  };
  const longFromBytes = (b: Uint8Array): number | bigint => {
    if (b.byteLength === 0) return 0;
    let v = 0n;
    for (let i = b.byteLength - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (b[b.byteLength - 1]! & 0x80) v -= 1n << BigInt(8 * b.byteLength);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const setItems = (target: PyValue, items: PyValue[]): void => {
    if (!(target instanceof PyDict)) fail('SETITEM(S) on a non-dict');
    if (items.length % 2) fail('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) (target as PyDict).map.set(items[i]!, items[i + 1]!);
  };
  const appendItems = (target: PyValue, items: PyValue[]): void => {
    if (!Array.isArray(target)) fail('APPEND(S) on a non-list');
    (target as PyValue[]).push(...items);
  };

  for (;;) {
    opPos = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('unsupported pickle protocol');
        break;
      case 0x95: // FRAME (length is advisory)
        take(8);
        break;
      case 0x2e: // STOP
        if (stack.length !== 1) fail(`STOP with ${stack.length} items on the stack`);
        return pop();
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x30: // POP
        if (stack.length === 0) fail('stack underflow');
        stack.pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(longFromBytes(take(u8())));
        break;
      case 0x8b: {
        // LONG4: capped; no tensor metadata needs a 1 KiB integer
        const n = i32();
        if (n < 0 || n > 1024) fail(`LONG4 of ${n} bytes refused`);
        stack.push(longFromBytes(take(n)));
        break;
      }
      case 0x49: {
        // INT (protocol 0 text); "00"/"01" are the old booleans
        const s = line();
        if (s === '00' || s === '01') stack.push(s === '01');
        else if (/^[+-]?\d+$/.test(s)) stack.push(Number.isSafeInteger(Number(s)) ? Number(s) : BigInt(s));
        else fail(`bad INT ${JSON.stringify(s)}`);
        break;
      }
      case 0x4c: {
        // LONG (protocol 0 text)
        const s = line().replace(/L$/, '');
        if (!/^[+-]?\d+$/.test(s)) fail(`bad LONG ${JSON.stringify(s)}`);
        stack.push(Number.isSafeInteger(Number(s)) ? Number(s) : BigInt(s));
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(utf8(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8(take(u64())));
        break;
      case 0x54: // BINSTRING (py2 str)
        stack.push(latin1.decode(take(u32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(take(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()));
        break;
      case 0x8e: // BINBYTES8
        stack.push(take(u64()));
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x74: // TUPLE
        stack.push(new PyTuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(new PyTuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push(new PyTuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(new PyTuple([pop(), b, c]));
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x64: {
        // DICT
        const d = new PyDict();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x8f: // EMPTY_SET
        stack.push(new Set<PyValue>());
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) fail('ADDITEMS on a non-set');
        for (const it of items) (s as Set<PyValue>).add(it);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(new Set<PyValue>(popMark()));
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x70: {
        // PUT (text)
        const s = line();
        if (!/^\d+$/.test(s)) fail(`bad PUT ${JSON.stringify(s)}`);
        memo.set(Number(s), top());
        break;
      }
      case 0x68: // BINGET
      case 0x6a: // LONG_BINGET
      case 0x67: {
        // GET (text)
        let key: number;
        if (op === 0x68) key = u8();
        else if (op === 0x6a) key = u32();
        else {
          const s = line();
          if (!/^\d+$/.test(s)) fail(`bad GET ${JSON.stringify(s)}`);
          key = Number(s);
        }
        if (!memo.has(key)) fail(`memo key ${key} is not defined`);
        stack.push(memo.get(key)!);
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        stack.push(global(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        if (!(fn instanceof PyGlobal)) fail('REDUCE of a non-callable');
        if (!(args instanceof PyTuple)) fail('REDUCE arguments are not a tuple');
        stack.push(hooks.call(fn as PyGlobal, (args as PyTuple).items));
        break;
      }
      case 0x81: {
        // NEWOBJ cls.__new__(cls, *args): only allowed classes can be on the stack; delegate to the caller
        const args = pop();
        const cls = pop();
        if (!(cls instanceof PyGlobal) || !(args instanceof PyTuple)) fail('bad NEWOBJ');
        stack.push(hooks.call(cls as PyGlobal, (args as PyTuple).items));
        break;
      }
      case 0x62: {
        // BUILD: only dicts accept state (OrderedDict's `_metadata`); nothing is ever executed
        const state = pop();
        const obj = top();
        if (obj instanceof PyDict) obj.attrs = state;
        else fail(`BUILD on ${describe(obj)} is not supported`);
        break;
      }
      case 0x51: // BINPERSID
        stack.push(hooks.persistentLoad(pop()));
        break;
      case 0x50: // PERSID (text)
        stack.push(hooks.persistentLoad(line()));
        break;
      default:
        fail(`unsupported opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
}

/** Short human description of a pickled value for error messages. */
export function describe(v: PyValue | undefined): string {
  if (v === null || v === undefined) return 'None';
  if (v instanceof PyTuple) return `tuple(${v.items.length})`;
  if (v instanceof PyDict) return 'dict';
  if (v instanceof PyGlobal) return v.qualified;
  if (v instanceof PyOpaque) return v.kind;
  if (Array.isArray(v)) return `list(${v.length})`;
  if (v instanceof Set) return 'set';
  if (ArrayBuffer.isView(v)) return 'bytes';
  return typeof v;
}
