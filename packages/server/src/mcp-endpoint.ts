import type { OpenAPIHono } from '@hono/zod-openapi';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { z } from 'zod';
import { type AppContext, type AppEnv, runAdd } from './app-context.js';
import { answerForError } from './http-errors.js';
import { deleteProjectMemory, searchProject } from './route-kit.js';

function packageVersion(): string {
  return '0.1.0';
}

const userId = z
  .string()
  .min(1)
  .max(256)
  .describe('The end user whose memories these are, e.g. "alice".');

function toolResult(value: unknown) {
  return { content: [{ type: 'text' as const, text: JSON.stringify(value, null, 2) }] };
}

function toolError(error: unknown) {
  const answer = answerForError(error);
  return {
    isError: true,
    content: [{ type: 'text' as const, text: `${answer.code}: ${answer.message}` }],
  };
}

/** An MCP server whose tools read and write one project's memories. */
export function createProjectMcpServer(context: AppContext, project: string): McpServer {
  const server = new McpServer({ name: 'engram', version: packageVersion() });
  const guard =
    <T>(work: (input: T) => Promise<unknown>) =>
    async (input: T) => {
      try {
        return toolResult(await work(input));
      } catch (error) {
        return toolError(error);
      }
    };

  server.registerTool(
    'add_memory',
    {
      title: 'Remember',
      description:
        'Store what the user said that is worth remembering (preferences, facts, plans). With an LLM configured on the server, facts are extracted and reconciled with what is already known.',
      inputSchema: {
        text: z
          .string()
          .min(1)
          .max(200_000)
          .describe('What to remember, or the conversation text.'),
        user_id: userId,
        agent_id: z.string().min(1).max(256).optional(),
        run_id: z.string().min(1).max(256).optional(),
        metadata: z.record(z.string(), z.unknown()).optional(),
      },
    },
    guard(
      async (input: {
        text: string;
        user_id: string;
        agent_id?: string;
        run_id?: string;
        metadata?: Record<string, unknown>;
      }) =>
        runAdd(
          context,
          {
            project,
            messages: input.text,
            options: {
              userId: input.user_id,
              ...(input.agent_id ? { agentId: input.agent_id } : {}),
              ...(input.run_id ? { runId: input.run_id } : {}),
              ...(input.metadata ? { metadata: input.metadata as Record<string, never> } : {}),
            },
          },
          'sync',
        ),
    ),
  );

  server.registerTool(
    'search_memories',
    {
      title: 'Recall',
      description: 'Find the memories of a user that matter for a query, best first.',
      inputSchema: {
        query: z.string().min(1).max(20_000),
        user_id: userId,
        limit: z.number().int().min(1).max(100).optional(),
      },
    },
    guard(async (input: { query: string; user_id: string; limit?: number }) => {
      return searchProject(context, project, input.query, {
        userId: input.user_id,
        limit: input.limit ?? 10,
      });
    }),
  );

  server.registerTool(
    'list_memories',
    {
      title: 'List memories',
      description: 'List the memories of a user, a page at a time.',
      inputSchema: {
        user_id: userId,
        limit: z.number().int().min(1).max(1000).optional(),
        cursor: z.string().min(1).max(2048).optional(),
      },
    },
    guard(async (input: { user_id: string; limit?: number; cursor?: string }) => {
      const memory = await context.projects.memory(project);
      return memory.list({
        userId: input.user_id,
        limit: input.limit ?? 100,
        ...(input.cursor ? { cursor: input.cursor } : {}),
      });
    }),
  );

  server.registerTool(
    'delete_memory',
    {
      title: 'Forget',
      description: 'Delete one memory of a user by id.',
      inputSchema: { id: z.string().min(1).max(256), user_id: userId },
    },
    // Another user's id gets the answer of a missing one, so ids cannot be probed.
    guard((input: { id: string; user_id: string }) =>
      deleteProjectMemory(context, project, input.id, { userId: input.user_id }),
    ),
  );

  return server;
}

/**
 * Registers `/mcp`: the Model Context Protocol over streamable HTTP, stateless (each request
 * gets a fresh server bound to the API key's project), answering JSON.
 */
export function registerMcpRoute(app: OpenAPIHono<AppEnv>, context: AppContext): void {
  app.all('/mcp', async (c) => {
    const { project } = c.get('identity');
    const server = createProjectMcpServer(context, project);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await server.connect(transport);
    try {
      return await transport.handleRequest(c.req.raw);
    } finally {
      void server.close().catch(() => {});
    }
  });
}
