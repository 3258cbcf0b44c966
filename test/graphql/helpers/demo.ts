import type { Client } from '@urql/core';
import {
  ActiveUsersDocument,
  PostsPerAuthorDocument,
  TopPostsDocument,
  UsersCountDocument,
  UsersListDocument,
} from '../generated/graphql.js';
import { type Feed, follow } from './clients.js';
import type { UpdateEvent } from './local-view.js';

export const DEMO_VIEWS = ['usersList', 'usersCount', 'activeUsers', 'topPosts', 'postsPerAuthor'] as const;
export type DemoView = (typeof DEMO_VIEWS)[number];

/** Subscribes to one demo view with its generated typed document. */
export function followView(
  client: Client,
  view: DemoView,
  sinceVersion?: number,
): { feed: Feed<UpdateEvent>; stop: () => void } {
  const variables = sinceVersion === undefined ? {} : { sinceVersion };
  switch (view) {
    case 'usersList':
      return follow(client, UsersListDocument, variables, (data) => data.usersList);
    case 'usersCount':
      return follow(client, UsersCountDocument, variables, (data) => data.usersCount);
    case 'activeUsers':
      return follow(client, ActiveUsersDocument, variables, (data) => data.activeUsers);
    case 'topPosts':
      return follow(client, TopPostsDocument, variables, (data) => data.topPosts);
    case 'postsPerAuthor':
      return follow(client, PostsPerAuthorDocument, variables, (data) => data.postsPerAuthor);
  }
}
