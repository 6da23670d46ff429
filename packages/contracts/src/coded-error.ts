/**
 * The base of every error a Switchyard package throws on purpose: a stable `code` to branch on
 * (never the message), and a message that starts with the code's title. The API edge turns a
 * `SwitchyardError` into problem+json; other packages' codes are mapped there by code.
 */
export class CodedError<C extends string = string> extends Error {
  readonly code: C;

  constructor(code: C, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * An error class per package catalog: `new E(code, detail)` has the message
 * `<the code's title>: <detail>`.
 */
export function codedErrorClass<C extends string>(catalog: Readonly<Record<C, string>>) {
  return class extends CodedError<C> {
    constructor(code: C, detail: string, options?: ErrorOptions) {
      super(code, `${catalog[code]}: ${detail}`, options);
    }
  };
}
