import { FIXED_TYPE_NAMES } from '../../config/names.js';
import type { ScalarType } from '../../config/types.js';
import type { Builder } from './builder.js';

type Types = Builder['$inferSchemaTypes'];
type FilterShape = { [op: string]: unknown };
export type FilterRef = PothosSchemaTypes.InputObjectRef<Types, FilterShape>;

/**
 * One filter input per scalar type, for the typed `where` of ad-hoc live queries: the
 * operators of DESIGN §3.2 that make sense for the type, each operand of the field's type.
 * `eq: null` compares with null (as `isNull: true`); other operators refuse null.
 */
export function defineFilterTypes(builder: Builder): ReadonlyMap<ScalarType, FilterRef> {
  const define = (
    name: string,
    scalar: ScalarType,
    ops: { order: boolean; text: boolean; contains: boolean },
  ): FilterRef =>
    builder.inputRef<FilterShape, false>(name).implement({
      description:
        `Conditions on ${/^[AEIOU]/.test(scalar) ? 'an' : 'a'} ${scalar} field, ANDed.` +
        (ops.order ? ' Order operators compare only values of one type; null never satisfies them.' : ''),
      fields: (t) => {
        const value = (description: string) => t.field({ type: scalar as 'JSON', description });
        const list = (description: string) => t.field({ type: [scalar as 'JSON'], description });
        const fields: { [op: string]: ReturnType<typeof value> } = {
          eq: value('Equal to (null: the field is null).'),
          ne: value('Not equal to (null: the field is not null).'),
          in: list('Equal to one of these.'),
          nin: list('Equal to none of these.'),
          isNull: t.field({
            type: 'Boolean',
            description: 'true: the field is null; false: it is not.',
          }) as unknown as ReturnType<typeof value>,
        };
        if (ops.order) {
          fields['lt'] = value('Less than.');
          fields['lte'] = value('Less than or equal to.');
          fields['gt'] = value('Greater than.');
          fields['gte'] = value('Greater than or equal to.');
        }
        if (ops.text) fields['startsWith'] = value('Starts with this text.');
        if (ops.contains)
          fields['contains'] = value(
            scalar === 'JSON'
              ? 'An array field holding this value, or a string field containing this text.'
              : 'Contains this text.',
          );
        return fields;
      },
    });
  const text = { order: true, text: true, contains: true };
  const number = { order: true, text: false, contains: false };
  return new Map<ScalarType, FilterRef>([
    ['ID', define(FIXED_TYPE_NAMES.idFilter, 'ID', text)],
    ['String', define(FIXED_TYPE_NAMES.stringFilter, 'String', text)],
    ['Int', define(FIXED_TYPE_NAMES.intFilter, 'Int', number)],
    ['Float', define(FIXED_TYPE_NAMES.floatFilter, 'Float', number)],
    ['Boolean', define(FIXED_TYPE_NAMES.booleanFilter, 'Boolean', { order: false, text: false, contains: false })],
    ['JSON', define(FIXED_TYPE_NAMES.jsonFilter, 'JSON', { order: false, text: false, contains: true })],
  ]);
}
