/** GraphQL topic for changes to one user's account. */
export const userUpdatedTopic = (userId: string) => `user-updated:${userId}`;
