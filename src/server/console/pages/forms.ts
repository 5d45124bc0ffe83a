/** Reading form fields the same way everywhere (parseBody with { all: true } gives string | string[] | File). */
export type FormBody = Record<string, unknown>;

export function formValue(form: FormBody, name: string): string {
  const v = form[name];
  if (Array.isArray(v)) return typeof v[0] === 'string' ? v[0] : '';
  return typeof v === 'string' ? v : '';
}

export function formValues(form: FormBody, name: string): string[] {
  const v = form[name];
  const all = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return all.filter((x): x is string => typeof x === 'string');
}
