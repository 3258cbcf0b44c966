import { expect, test } from 'vitest';
import demo from '../../config/demo.js';
import { bindRule, type Rule, ruleHolds, scopeView, type Viewer } from '../../config/rules.js';
import { type ConfigError, checkConfig } from '../../config/validate.js';
import { viewSignature } from '../../engine/index.js';

/** Rules bound to viewers, ANDed into views, and checked in configs (config/rules.ts). */
const admin: Viewer = { sub: 'a', role: 'admin' };
const ann: Viewer = { sub: 'u1', role: 'viewer' };
const bob: Viewer = { sub: 'u2', role: null };
const postsRead = demo.tables.find((t) => t.name === 'posts')?.rules?.read as Rule;
const readRules = new Map([['posts', postsRead]]);

test('binding decides $viewer conditions and turns { viewer } operands into parameters', () => {
  const write: Rule = { or: [{ '$viewer.role': { eq: 'admin' } }, { authorId: { eq: { viewer: 'sub' } } }] };
  expect(bindRule(write, admin)).toEqual({ rule: true, params: {} });
  expect(bindRule(write, ann)).toEqual({
    rule: { authorId: { eq: { param: '$viewer.sub' } } },
    params: { '$viewer.sub': 'u1' },
  });
  expect(bindRule(write, ann, true).rule).toEqual({ authorId: { eq: 'u1' } });
  expect(bindRule({ and: [{ '$viewer.role': { in: ['x', 'y'] } }, { a: { eq: 1 } }] }, ann).rule).toBe(false);
  expect(bindRule({ not: { '$viewer.role': { isNull: true } } }, bob).rule).toBe(false);
  expect(ruleHolds(bindRule(write, ann, true).rule, { id: 'p', authorId: 'u1' })).toBe(true);
  expect(ruleHolds(bindRule(write, ann, true).rule, { id: 'p', authorId: 'u2' })).toBe(false);
});

test('read rules are ANDed into where and join where; an implied rule is left out', () => {
  const mine = scopeView({ id: 'v', from: 'posts', where: { likes: { gt: 1 } } }, {}, readRules, ann);
  expect(mine.definition.where).toEqual({
    and: [{ likes: { gt: 1 } }, { or: [{ published: { eq: true } }, { authorId: { eq: { param: '$viewer.sub' } } }] }],
  });
  expect(mine.params).toEqual({ '$viewer.sub': 'u1' });
  // published posts are readable by everyone: the view is the same for every viewer
  const published = { id: 'v', from: 'posts', where: { published: { eq: true } } };
  expect(scopeView(published, {}, readRules, ann)).toEqual({ definition: published, params: {} });
  // a viewer reading their own posts needs no rule either
  const own = { id: 'v', from: 'posts', where: { authorId: { eq: { param: 'authorId' } } } };
  expect(scopeView(own, { authorId: 'u1' }, readRules, ann).params).toEqual({ authorId: 'u1' });
  expect(scopeView(own, { authorId: 'u2' }, readRules, ann).params).toEqual({ authorId: 'u2', '$viewer.sub': 'u1' });
  const joined = scopeView(
    {
      id: 'j',
      from: 'users',
      join: [{ table: 'posts', as: 'post', on: { left: 'id', right: 'authorId' }, kind: 'left' }],
    },
    {},
    readRules,
    bob,
  );
  expect(joined.definition.join?.[0]?.where).toEqual({
    or: [{ published: { eq: true } }, { authorId: { eq: { param: '$viewer.sub' } } }],
  });
  expect(joined.definition.where).toBeUndefined();
});

test('viewers with equal bound values share a signature, others do not', () => {
  const def = { id: 'v', from: 'posts', where: { likes: { gt: 1 } } };
  const sig = (viewer: Viewer) => {
    const scoped = scopeView(def, {}, readRules, viewer);
    return viewSignature(scoped.definition, scoped.params);
  };
  expect(sig(ann)).toBe(sig({ sub: 'u1', role: 'admin' })); // the posts rule does not read the role
  expect(sig(ann)).not.toBe(sig(bob));
});

test('a config with bad rules or params lists every problem', () => {
  const problems = (config: unknown): string[] => {
    try {
      checkConfig(config);
      return [];
    } catch (error) {
      return (error as ConfigError).problems as string[];
    }
  };
  const found = problems({
    tables: [
      {
        name: 'posts',
        type: 'Post',
        fields: { authorId: 'ID!', likes: 'Int!', not: 'Int' },
        rules: {
          read: { nope: { eq: 1 } },
          write: { authorId: { eq: { viewer: 'email' } } },
          publish: {},
          update: { '$viewer.team': { eq: 'x' } },
        },
      },
    ],
    views: [
      { id: 'a', from: 'posts', where: { authorId: { eq: { param: 'who' } } } },
      {
        id: 'b',
        from: 'posts',
        params: { who: 'ID!', sinceVersion: 'Int' },
        where: { likes: { eq: { param: 'sinceVersion' } } },
      },
    ],
  }).join('\n');
  expect(found).toContain('field name "not" is reserved');
  expect(found).toContain('rules.read: unknown field "nope"');
  expect(found).toContain('rules.write: unknown viewer claim "email"');
  expect(found).toContain('rules.publish: unknown rule');
  expect(found).toContain('rules.update: unknown viewer claim in path "$viewer.team"');
  expect(found).toContain('view "a": parameter "who" is used but not declared');
  expect(found).toContain('view "b": parameter "who" is declared but not used');
  expect(found).toContain('parameter name "sinceVersion" is reserved');
});
