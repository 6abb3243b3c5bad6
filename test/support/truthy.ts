/**
 * What a polling helper hands back once its check passes: the check's value without the falsy
 * members of its type (`false`, `0`, `''`, `null`, `undefined`), which the helper keeps polling
 * on. So `() => rows.length > 0 && rows` waits for an array and returns one, not `false | Row[]`.
 */
export type Truthy<T> = Exclude<T, false | 0 | 0n | '' | null | undefined>;
