// The program of the `pointwise` primitive: an arithmetic expression of its inputs and constants in
// postfix order, e.g. "x0 c0 mul x1 add" for x0·c0 + x1, or several separated by ";" (stacked
// outputs). Backends read it token by token.

/** The binary operators a program may use. */
export const POINTWISE_BINARY = ["add", "sub", "mul", "div", "max", "min"] as const;
/** The unary operators a program may use. */
export const POINTWISE_UNARY = ["neg", "sqrt", "abs", "sign"] as const;
/** The most inputs a program may read (a GPU kernel binds each). */
export const POINTWISE_MAX_INPUTS = 6;
/** The most constants a program may use (they travel in the kernel's parameter words). */
export const POINTWISE_MAX_SCALARS = 48;

/** A binary operator of a program. */
export type PointwiseBinary = (typeof POINTWISE_BINARY)[number];
/** A unary operator of a program. */
export type PointwiseUnary = (typeof POINTWISE_UNARY)[number];

/** A program token: an input or a constant (by index), or an operator. */
export type PointwiseToken =
  | {
    /** An input. */ kind: "input";
    /** Which. */ index: number;
  }
  | {
    /** A constant. */ kind: "scalar";
    /** Which. */ index: number;
  }
  | {
    /** A binary operator. */ kind: "binary";
    /** Which. */ op: PointwiseBinary;
  }
  | {
    /** A unary operator. */ kind: "unary";
    /** Which. */ op: PointwiseUnary;
  };

/** The expressions of a program, one per stacked output (one for a plain `pointwise`). */
export function pointwiseParts(program: string): string[] {
  return program.split(";");
}

/** Programs parsed so far: the shape rule and the kernel read each one, every step. */
const parsed = new Map<string, PointwiseToken[]>();

/**
 * The tokens of `program`, checked: every input below `inputs`, every constant below `scalars`,
 * and a stack that ends with one value. Throws an Error saying what is wrong.
 */
export function parsePointwise(program: string, inputs: number, scalars: number): PointwiseToken[] {
  const key = `${inputs} ${scalars} ${program}`;
  let tokens = parsed.get(key);
  if (!tokens) parsed.set(key, (tokens = parse(program, inputs, scalars)));
  return tokens;
}

function parse(program: string, inputs: number, scalars: number): PointwiseToken[] {
  let depth = 0;
  const tokens = program.trim().split(/\s+/).map((word): PointwiseToken => {
    const leaf = /^([xc])(\d+)$/.exec(word);
    let token: PointwiseToken;
    if (leaf) {
      const index = Number(leaf[2]);
      const limit = leaf[1] === "x" ? inputs : scalars;
      if (index >= limit) throw new Error(`"${word}" refers past the ${limit} ${leaf[1] === "x" ? "inputs" : "constants"} given`);
      token = { kind: leaf[1] === "x" ? "input" : "scalar", index };
      depth++;
    } else if ((POINTWISE_BINARY as readonly string[]).includes(word)) {
      if (depth < 2) throw new Error(`"${word}" needs two operands`);
      token = { kind: "binary", op: word as PointwiseBinary };
      depth--;
    } else if ((POINTWISE_UNARY as readonly string[]).includes(word)) {
      if (depth < 1) throw new Error(`"${word}" needs an operand`);
      token = { kind: "unary", op: word as PointwiseUnary };
    } else {
      throw new Error(`unknown token "${word}"`);
    }
    return token;
  });
  if (depth !== 1) throw new Error(`leaves ${depth} values, not one`);
  return tokens;
}
