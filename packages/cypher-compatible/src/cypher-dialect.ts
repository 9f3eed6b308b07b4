/**
 * What sets one Cypher backend apart from another, as far as the shared statements and store
 * need to know. Schema statements stay with each adapter: no two servers share that syntax.
 */
export interface CypherDialect {
  /**
   * `bolt`: Cypher as Neo4j and Memgraph run it: list and map property values, `FOREACH`, several
   * statements in one transaction. `neptune`: Amazon Neptune Database's openCypher: no list or
   * map property values (embeddings and metadata travel as JSON strings, and every property is
   * set by name, where null removes it), no `FOREACH`, and every request is its own transaction.
   */
  flavour: 'bolt' | 'neptune';
  /**
   * How entity similarity is scored. `vector-function`: Neo4j's `vector.similarity.cosine`, which
   * also allows approximate search through a vector index; `arithmetic`: cosine written out in
   * Cypher (`reduce`); `client`: the scope's entities are read and ranked by the store itself.
   */
  similarity: 'vector-function' | 'arithmetic' | 'client';
}
