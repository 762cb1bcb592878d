import { z } from 'zod';
import { date, id, int } from './columns.ts';
import { defineEntity } from './entity.ts';

export const PHQ9_ITEMS = ['item_1', 'item_2', 'item_3', 'item_4', 'item_5', 'item_6', 'item_7', 'item_8', 'item_9'] as const;

const item = (n: number) =>
  int({ min: 0, max: 3, note: n === 9 ? 'thoughts of self-harm: never leaves the warehouse' : 'optional, 0..3' });

export const phq9 = defineEntity({
  name: 'phq9',
  title: 'PHQ-9',
  description: 'One row per PHQ-9 administration. Item 9 never leaves the warehouse.',
  key: ['assessment_id'],
  schema: z.object({
    assessment_id: id({ required: true, key: true, note: 'unique key' }),
    person_id: id({ required: true, personRef: true, note: 'must exist in people' }),
    assessed_on: date({ required: true }),
    total_score: int({ required: true, min: 0, max: 27, note: 'when all nine items are present their sum must equal total_score' }),
    item_1: item(1), item_2: item(2), item_3: item(3), item_4: item(4), item_5: item(5),
    item_6: item(6), item_7: item(7), item_8: item(8), item_9: item(9),
  }),
  crossRules: [{ rule: 'items_do_not_sum', column: 'total_score', items: PHQ9_ITEMS }],
});
