/**
 * Plain graphql-yoga + graphql-ws + `createPubSub`, wired as yoga's graphql-ws example does:
 * a mutation publishes a `topPosts` DELTA, every subscriber's own iterator executes and
 * serialises it.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPubSub } from '@graphql-yoga/subscription';
import type { ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createSchema, createYoga } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { announce, answerControl } from './control.js';
import { topPostsDelta } from './payload.js';

const pubSub = createPubSub<{ topPosts: [object] }>();
let version = 0;
let subscribers = 0;
const yoga = createYoga({
  schema: createSchema({
    typeDefs: /* GraphQL */ `
      type User { id: ID! name: String! email: String! role: String! active: Boolean! age: Int }
      type TopPostsRow { id: ID! authorId: ID! title: String! published: Boolean! likes: Int! author: User }
      type TopPostsUpdate {
        view: String! version: Int! kind: String! hash: String!
        removed: [ID!]! added: [TopPostsRow!]! updated: [TopPostsRow!]!
      }
      type UpdateResult { version: Int! }
      type Query { version: Int! }
      type Mutation { updatePost(id: ID!, likes: Int!): UpdateResult! }
      type Subscription { topPosts: TopPostsUpdate! }
    `,
    resolvers: {
      Query: { version: () => version },
      Mutation: {
        updatePost: (_root: unknown, args: { likes: number }) => {
          version++;
          pubSub.publish('topPosts', topPostsDelta(version, args.likes));
          return { version };
        },
      },
      Subscription: {
        topPosts: {
          subscribe: () => {
            subscribers++;
            return pubSub.subscribe('topPosts');
          },
          resolve: (payload: object) => payload,
        },
      },
    },
  }),
  logging: false,
});
const server = createServer(yoga);
const wss = new WebSocketServer({ server, path: yoga.graphqlEndpoint });
type Enveloped = { execute: (args: ExecutionArgs) => never; subscribe: (args: ExecutionArgs) => never };
useServer(
  {
    execute: (args) => (args.rootValue as Enveloped).execute(args),
    subscribe: (args) => (args.rootValue as Enveloped).subscribe(args),
    onSubscribe: async (ctx, _id, payload) => {
      const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
        ...ctx,
        req: ctx.extra.request,
        socket: ctx.extra.socket,
        params: payload,
      });
      const args = {
        schema,
        operationName: payload.operationName ?? null,
        document: parse(payload.query),
        variableValues: payload.variables ?? null,
        contextValue: await contextFactory(),
        rootValue: { execute, subscribe },
      };
      const errors = validate(args.schema, args.document);
      return errors.length > 0 ? errors : args;
    },
    onComplete: () => void subscribers--,
  },
  wss,
);
server.listen(0, '127.0.0.1');
await once(server, 'listening');
answerControl(() => subscribers);
announce(`http://127.0.0.1:${(server.address() as AddressInfo).port}${yoga.graphqlEndpoint}`);
