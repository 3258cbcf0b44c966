// The README's apollo snippet, type-checked here (test/client/readme-snippets.test.ts checks the README holds
// exactly this text and runs it). `render` is the app's.
declare function render(rows: readonly unknown[]): void;

import { ApolloClient, ApolloLink, InMemoryCache } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { createClient } from 'graphql-ws';
import { createLiveLink } from 'live-views-graphql/client/apollo';
import { TopPostsDocument } from './gql/graphql.js';

const ws = new GraphQLWsLink(createClient({ url: 'ws://127.0.0.1:4000/graphql' }));
const client = new ApolloClient({ link: ApolloLink.from([createLiveLink(), ws]), cache: new InMemoryCache() });
client.subscribe({ query: TopPostsDocument }).subscribe(({ data }) => render(data?.topPosts.added ?? []));
