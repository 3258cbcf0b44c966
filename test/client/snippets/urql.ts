// The README's urql snippet, type-checked here (test/client/readme-snippets.test.ts checks the README holds
// exactly this text and runs it). `render` is the app's.
declare function render(rows: readonly unknown[]): void;

import { Client, cacheExchange, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient } from 'graphql-ws';
import { forwardTo, liveExchange } from 'live-views-graphql/client/urql';
import { TopPostsDocument } from './gql/graphql.js';

const ws = createClient({ url: 'ws://127.0.0.1:4000/graphql' });
const subscriptions = subscriptionExchange({ forwardSubscription: forwardTo(ws) });
const exchanges = [cacheExchange, liveExchange(), subscriptions, fetchExchange];
const client = new Client({ url: 'http://127.0.0.1:4000/graphql', exchanges });
client.subscription(TopPostsDocument, {}).subscribe(({ data }) => render(data?.topPosts.added ?? []));
