import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { GraphQLError, GraphQLScalarType, Kind, valueFromASTUntyped } from 'graphql';
import { isPlainObject } from '../notification.rules';

/** The free-form `data` object of a notification (its own scalar name, so it cannot clash with another module's JSON scalar). */
export const NotificationDataScalar = new GraphQLScalarType({
  name: 'NotificationData',
  description: 'A JSON object attached to a notification',
  serialize: (v) => v,
  parseValue: (v) => {
    if (!isPlainObject(v)) throw new GraphQLError('data must be a JSON object');
    return v;
  },
  parseLiteral: (ast, variables) => {
    if (ast.kind !== Kind.OBJECT) throw new GraphQLError('data must be a JSON object');
    return valueFromASTUntyped(ast, variables);
  },
});

@ObjectType('Notification')
export class NotificationType {
  @Field(() => ID) id: string;
  @Field(() => ID) userId: string;
  @Field() type: string;
  @Field() title: string;
  @Field() body: string;
  @Field(() => NotificationDataScalar) data: Record<string, unknown>;
  @Field() read: boolean;
  @Field(() => String, { nullable: true }) readAt: string | null;
  @Field() createdAt: string;
}

@ObjectType('NotificationPage')
export class NotificationPageType {
  @Field(() => [NotificationType]) items: NotificationType[];
  @Field(() => String, { nullable: true }) nextCursor: string | null;
  @Field(() => Int) unreadCount: number;
}

@ObjectType('NotificationDispatch')
export class NotificationDispatchType {
  @Field(() => ID) dispatchId: string;
  @Field() status: string;
  @Field() broadcast: boolean;
  @Field(() => Int, { nullable: true }) recipients: number | null;
}

@ObjectType('NotificationsReadAll')
export class NotificationsReadAllType {
  @Field(() => Int) updated: number;
  @Field(() => Int) unreadCount: number;
}
