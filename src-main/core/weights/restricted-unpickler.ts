// A restricted pickle reader for PyTorch checkpoints. It interprets pickle opcodes itself and never runs code:
// every GLOBAL is checked against an allow-list of tensor-rebuilding names the moment it is read, and anything else
// (os.system, builtins.eval, subprocess.Popen, ...) is refused before any later opcode could call it.

import { raise } from '../../shared/index.ts';

/** A storage reference from torch's persistent ids: ('storage', torch.FloatStorage, key, location, numel). */
export interface StorageRef {
  kind: 'storage';
  dtype: TorchDtype;
  key: string;
  numel: number;
}

export type TorchDtype =
  'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** A tensor described by a pickle: its storage, offset (in elements), shape and strides. Data is read later. */
export interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  storageOffset: number;
  shape: number[];
  stride: number[];
}

/** Values a checkpoint pickle may produce. Dicts keep insertion order (OrderedDict state dicts). */
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | Map<PickleValue, PickleValue>
  | TensorRef
  | StorageRef
  | { kind: 'tuple'; items: PickleValue[] }
  | { kind: 'global'; name: string };

const storageDtypes: Record<string, TorchDtype> = {
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** The only globals a checkpoint may name: containers and tensor rebuilders, all interpreted here as data. */
const allowedGlobals = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch._tensor._rebuild_from_type_v2',
  'torch.nn.parameter.Parameter',
  '_codecs.encode',
  ...Object.keys(storageDtypes).map((name) => `torch.${name}`),
]);

function refuse(path: string, name: string): never {
  return raise(
    'WEIGHTS_INVALID',
    `${path} was refused: its pickle names the global "${name}", which is not needed to rebuild tensors (allowed: OrderedDict, torch tensor and storage rebuilders). Nothing in the file was executed.`,
    'Only load checkpoints from sources you trust. If this is a real state dict, re-save it as safetensors or with torch.save(model.state_dict(), path).',
  );
}

function malformed(path: string, problem: string): never {
  return raise(
    'WEIGHTS_INVALID',
    `${path} has a malformed pickle: ${problem}.`,
    'The file may be corrupt; copy it again or re-save it.',
  );
}

const mark = Symbol('mark');
type StackItem = PickleValue | typeof mark;

function tupleItems(value: PickleValue, path: string, what: string): PickleValue[] {
  if (typeof value === 'object' && value !== null && 'kind' in value && value.kind === 'tuple') return value.items;
  return malformed(path, `${what} expects a tuple of arguments`);
}

function asIntegers(value: PickleValue, path: string, what: string): number[] {
  return tupleItems(value, path, what).map((item) => {
    if (typeof item === 'number' && Number.isInteger(item)) return item;
    if (typeof item === 'bigint') return Number(item);
    return malformed(path, `${what} has a non-integer dimension`);
  });
}

/** Applies an allowed global to its arguments — all of them build data, none runs code. */
function callGlobal(name: string, args: PickleValue[], path: string): PickleValue {
  switch (name) {
    case 'collections.OrderedDict':
      return new Map();
    case 'torch._utils._rebuild_tensor_v2': {
      const [storage, offset, size, stride] = args;
      if (!storage || typeof storage !== 'object' || !('kind' in storage) || storage.kind !== 'storage') {
        return malformed(path, '_rebuild_tensor_v2 without a storage');
      }
      return {
        kind: 'tensor',
        storage,
        storageOffset: Number(offset),
        shape: asIntegers(size ?? null, path, 'tensor size'),
        stride: asIntegers(stride ?? null, path, 'tensor stride'),
      };
    }
    case 'torch._utils._rebuild_parameter':
    case 'torch.nn.parameter.Parameter':
      return args[0] ?? null;
    case 'torch._tensor._rebuild_from_type_v2': {
      // (func, type, args, state): a tensor subclass rebuilt by func(*args); only data-building funcs get here.
      const [inner, , innerArgs] = args;
      if (inner && typeof inner === 'object' && 'kind' in inner && inner.kind === 'global') {
        return callGlobal(inner.name, tupleItems(innerArgs ?? null, path, inner.name), path);
      }
      return malformed(path, '_rebuild_from_type_v2 without a function');
    }
    case '_codecs.encode': {
      const [text] = args;
      return Uint8Array.from(String(text), (character) => character.charCodeAt(0) & 0xff);
    }
  }
  return refuse(path, name);
}

/**
 * Interprets a pickle (protocols 2–5). `persistentLoad` resolves torch's storage ids; `path` is for messages.
 */
export function unpickle(bytes: Uint8Array, path: string): PickleValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: StackItem[] = [];
  const memo = new Map<number, PickleValue>();
  let position = 0;

  const need = (count: number) => {
    if (position + count > bytes.length) malformed(path, 'it ends in the middle of an instruction');
  };
  const u8 = () => (need(1), bytes[position++]!);
  const u16 = () => (need(2), (position += 2), view.getUint16(position - 2, true));
  const u32 = () => (need(4), (position += 4), view.getUint32(position - 4, true));
  const i32 = () => (need(4), (position += 4), view.getInt32(position - 4, true));
  const take = (count: number) => (need(count), (position += count), bytes.subarray(position - count, position));
  const text = (count: number) => new TextDecoder().decode(take(count));
  const line = () => {
    const end = bytes.indexOf(0x0a, position);
    if (end < 0) malformed(path, 'an unterminated text line');
    const value = new TextDecoder().decode(bytes.subarray(position, end));
    position = end + 1;
    return value;
  };
  const pop = (): PickleValue => {
    const item = stack.pop();
    if (item === undefined || item === mark) return malformed(path, 'stack underflow');
    return item;
  };
  const top = (): PickleValue => {
    const item = stack[stack.length - 1];
    if (item === undefined || item === mark) return malformed(path, 'stack underflow');
    return item;
  };
  const popToMark = (): PickleValue[] => {
    const index = stack.lastIndexOf(mark);
    if (index < 0) malformed(path, 'a missing MARK');
    const items = stack.splice(index) as PickleValue[];
    items.shift();
    return items;
  };
  const global = (module: string, name: string): PickleValue => {
    const qualified = `${module}.${name}`;
    if (!allowedGlobals.has(qualified)) refuse(path, qualified);
    return { kind: 'global', name: qualified };
  };
  const setItems = (target: PickleValue, items: PickleValue[]) => {
    if (!(target instanceof Map)) malformed(path, 'SETITEM on something that is not a dict');
    for (let index = 0; index + 1 < items.length; index += 2) target.set(items[index]!, items[index + 1]!);
  };
  const longFromBytes = (raw: Uint8Array): number | bigint => {
    let value = 0n;
    for (let index = raw.length - 1; index >= 0; index--) value = (value << 8n) | BigInt(raw[index]!);
    if (raw.length > 0 && raw[raw.length - 1]! & 0x80) value -= 1n << BigInt(raw.length * 8);
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  };

  for (;;) {
    const opcode = u8();
    switch (opcode) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        take(8);
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        stack.push(mark);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push({ kind: 'tuple', items: [] });
        break;
      case 0x74: // TUPLE
        stack.push({ kind: 'tuple', items: popToMark() });
        break;
      case 0x85: // TUPLE1
        stack.push({ kind: 'tuple', items: [pop()] });
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push({ kind: 'tuple', items: [pop(), b] });
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push({ kind: 'tuple', items: [pop(), b, c] });
        break;
      }
      case 0x6c: // LIST
        stack.push(popToMark());
        break;
      case 0x64: {
        // DICT
        const dict = new Map<PickleValue, PickleValue>();
        setItems(dict, popToMark());
        stack.push(dict);
        break;
      }
      case 0x61: {
        // APPEND
        const item = pop();
        const list = top();
        if (!Array.isArray(list)) malformed(path, 'APPEND to something that is not a list');
        list.push(item);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popToMark();
        const list = top();
        if (!Array.isArray(list)) malformed(path, 'APPENDS to something that is not a list');
        list.push(...items);
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: // SETITEMS
        {
          const items = popToMark();
          setItems(top(), items);
        }
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
      case 0x8b: // LONG4
        stack.push(longFromBytes(take(u32())));
        break;
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(position, false));
        position += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        need(8);
        stack.push(text(Number(view.getBigUint64((position += 8) - 8, true))));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x54: // BINSTRING
        stack.push(text(i32()));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(text(u8()));
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
      case 0x68: {
        // BINGET
        const key = u8();
        if (!memo.has(key)) malformed(path, `memo ${key} is read before it is written`);
        stack.push(memo.get(key)!);
        break;
      }
      case 0x6a: {
        // LONG_BINGET
        const key = u32();
        if (!memo.has(key)) malformed(path, `memo ${key} is read before it is written`);
        stack.push(memo.get(key)!);
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        stack.push(global(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') malformed(path, 'STACK_GLOBAL without strings');
        stack.push(global(module, name));
        break;
      }
      case 0x51: {
        // BINPERSID: torch storage ('storage', StorageType, key, location, numel)
        const [tag, storageType, key, , numel] = tupleItems(pop(), path, 'a persistent id');
        if (
          tag !== 'storage' ||
          !storageType ||
          typeof storageType !== 'object' ||
          !('kind' in storageType) ||
          storageType.kind !== 'global'
        ) {
          malformed(path, 'a persistent id that is not a torch storage');
        }
        const dtype = storageDtypes[storageType.name.replace(/^torch\./, '')];
        if (!dtype) malformed(path, `unknown storage type ${storageType.name}`);
        stack.push({ kind: 'storage', dtype, key: String(key), numel: Number(numel) });
        break;
      }
      case 0x52: {
        // REDUCE: callable(*args), only for allowed globals
        const args = pop();
        const callable = pop();
        if (!callable || typeof callable !== 'object' || !('kind' in callable) || callable.kind !== 'global') {
          malformed(path, 'REDUCE on something that is not an allowed global');
        }
        stack.push(callGlobal(callable.name, tupleItems(args, path, callable.name), path));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args) — only OrderedDict-like containers reach here
        const args = pop();
        const cls = pop();
        if (!cls || typeof cls !== 'object' || !('kind' in cls) || cls.kind !== 'global')
          malformed(path, 'NEWOBJ without a class');
        stack.push(callGlobal(cls.name, tupleItems(args, path, cls.name), path));
        break;
      }
      case 0x62: {
        // BUILD: state for the object below; tensors' and dicts' states carry nothing we need
        pop();
        break;
      }
      default:
        malformed(path, `unsupported pickle opcode 0x${opcode.toString(16)} at byte ${position - 1}`);
    }
  }
}
