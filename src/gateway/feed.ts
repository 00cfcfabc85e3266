/** The gateway's live journal feed for SSE and WebSocket subscribers: the store's one follower. */
export {
  RunFeed,
  type FeedSink,
  type Heartbeat,
  type RunFeedOptions,
  type Subscription,
} from '../store/feed.ts';
