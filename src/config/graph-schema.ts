/** The `graph:` key of a graph entry (docs/graphs.md): an ensemble, pipeline or router over other models of the file. */
import { Type, type Static } from '@sinclair/typebox';

export const GRAPH_KINDS = ['ensemble', 'pipeline', 'router'] as const;
export const ENSEMBLE_COMBINE = ['mean', 'majority', 'mean_probability'] as const;

/** Keys of `graph:` that only some kinds take (checked in entry-rules.ts, where the message can name the kind). */
export const GRAPH_KIND_ONLY_KEYS: Readonly<Record<string, readonly (typeof GRAPH_KINDS)[number][]>> = {
  combine: ['ensemble'],
  label_field: ['ensemble'],
  probabilities_field: ['ensemble'],
  labels: ['ensemble'],
  header: ['router'],
};

const GraphMemberSchema = Type.Union([
  Type.String({ minLength: 1, description: 'A model of this file, by qualified_name.' }),
  Type.Object(
    {
      model: Type.String({ minLength: 1, description: 'A model of this file, by qualified_name.' }),
      weight: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'ensemble: vote or mean weight; router: share of traffic. Default 1.' })),
      map: Type.Optional(
        Type.Record(Type.String(), Type.String(), {
          description: 'pipeline: renames fields of the previous output for this member (`{previous_field: this_field}`).',
        }),
      ),
      header_value: Type.Optional(Type.String({ description: 'router: requests whose routing header has this value go to this member.' })),
    },
    { additionalProperties: false },
  ),
]);

export const GraphSchema = Type.Object(
  {
    kind: Type.Union(
      GRAPH_KINDS.map((kind) => Type.Literal(kind)),
      { description: '`ensemble`: members run in parallel, answers combined. `pipeline`: each output feeds the next member. `router`: one member per request.' },
    ),
    members: Type.Array(GraphMemberSchema, { minItems: 1, description: 'Models of this file (defined above a graph that names a graph), in order.' }),
    combine: Type.Optional(
      Type.Union(
        ENSEMBLE_COMBINE.map((value) => Type.Literal(value)),
        { description: 'ensemble: `mean` of numeric fields (regression), `majority` vote on the label, or `mean_probability` (soft vote). Default majority.' },
      ),
    ),
    label_field: Type.Optional(Type.String({ minLength: 1, description: 'ensemble: the output field holding the class. Default `label`.' })),
    probabilities_field: Type.Optional(
      Type.String({ minLength: 1, description: 'ensemble mean_probability: the output field holding class probabilities. Default `probabilities`.' }),
    ),
    labels: Type.Optional(
      Type.Array(Type.Union([Type.String(), Type.Integer()]), {
        minItems: 1,
        description: 'ensemble mean_probability: the class of each probability, in order. Default 0, 1, 2, ...',
      }),
    ),
    header: Type.Optional(
      Type.String({ minLength: 1, description: "router: a request header whose value picks the member (its header_value, or its model's name)." }),
    ),
  },
  { additionalProperties: false, description: 'Makes this entry a model graph over other models of this file (docs/graphs.md).' },
);

export type GraphEntry = Static<typeof GraphSchema>;
