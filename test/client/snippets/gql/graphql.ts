// What an app's `./gql/graphql.js` (the client preset's output) holds: here, this repository's.
export * from '../../../graphql/generated/graphql.js';
