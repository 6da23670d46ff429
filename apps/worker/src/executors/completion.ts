import type { ModelConfig } from '@switchyard/config';
import { SwitchyardError, type CompletionJobSpec, type Usage } from '@switchyard/contracts';
import {
  estimateUsage,
  InvalidResponseFormatError,
  outputGuardrail,
  partialStreamText,
  providerFor,
  tokenCostNanos,
  type ChatCall,
  type OutputCheck,
} from '@switchyard/providers';
import { InvalidOutputError, type AttemptContext, type AttemptSuccess } from './types.ts';

export interface CompletionExecutorDeps {
  models: Record<string, ModelConfig>;
  /** Provider API keys by env var name, read once by main.ts. */
  secrets: Record<string, string | undefined>;
}

/** What a failed attempt is estimated to have cost: a stream the upstream cut mid-answer. */
export interface CostEstimate {
  usage: Usage;
  costNanos: number;
}

const ESTIMATES = new WeakMap<object, CostEstimate>();

/**
 * A stream that started and then broke was billed by the upstream though its usage never arrived:
 * its tokens are estimated from the request and the text received, priced as the model prices them.
 */
async function noteEstimate(err: unknown, spec: CompletionJobSpec, model: ModelConfig): Promise<void> {
  const received = partialStreamText(err);
  if (received === undefined || !err || typeof err !== 'object') return;
  const usage = await estimateUsage(spec.request, received);
  ESTIMATES.set(err, { usage, costNanos: tokenCostNanos(model.price, usage) });
}

/** The estimated usage and cost of the attempt `err` ended, when its stream had started. */
export function estimateOf(err: unknown): CostEstimate | undefined {
  return err && typeof err === 'object' ? ESTIMATES.get(err) : undefined;
}

/** The request's JSON guardrail; a schema that does not compile fails the job before any call. */
function guardrailOf(spec: CompletionJobSpec): OutputCheck | undefined {
  try {
    return outputGuardrail(spec.request.response_format);
  } catch (err) {
    if (err instanceof InvalidResponseFormatError)
      throw new SwitchyardError('validation_failed', err.message);
    throw err;
  }
}

/**
 * One completion attempt against the job's model: each token class × the model's price for it is
 * its cost. With a JSON `response_format` the answer is checked before anyone sees it: a streaming
 * client gets it in one piece once it passed (never half an answer that is then thrown away), and
 * an answer that fails is an `InvalidOutputError` that keeps what the attempt cost. A stream cut
 * mid-answer leaves an estimate of what it cost (`estimateOf`).
 */
export function completionExecutor(deps: CompletionExecutorDeps) {
  /** `name` is the model this attempt asks: the requested one or a fallback. */
  return async (spec: CompletionJobSpec, ctx: AttemptContext, name: string): Promise<AttemptSuccess> => {
    const model = deps.models[name];
    if (!model)
      throw new SwitchyardError('provider_not_configured', `model ${name} is not configured on this worker`);
    const apiKey = model.apiKeyEnv ? deps.secrets[model.apiKeyEnv] : undefined;
    if (model.apiKeyEnv && !apiKey) {
      throw new SwitchyardError('provider_not_configured', `${model.apiKeyEnv} is not set on this worker`);
    }
    const check = guardrailOf(spec);
    const adapter = providerFor(model.provider);
    const call: ChatCall = {
      baseUrl: model.baseUrl,
      apiKey,
      upstreamModel: model.upstreamModel,
      request: spec.request,
      timeoutMs: model.timeoutMs,
      signal: ctx.signal,
      dispatcher: ctx.dispatcher,
    };
    const relayAsItComes = ctx.onDelta && !check ? ctx.onDelta : undefined;
    let out;
    try {
      out = relayAsItComes
        ? await adapter.chatStream(call, relayAsItComes)
        : await adapter.chatComplete(call);
    } catch (err) {
      await noteEstimate(err, spec, model);
      throw err;
    }
    const success: AttemptSuccess = {
      result: {
        type: 'completion',
        model: name,
        upstream_model: model.upstreamModel,
        message: { role: 'assistant', content: out.content },
        finish_reason: out.finishReason,
        usage: out.usage,
      },
      costNanos: tokenCostNanos(model.price, out.usage),
      bytes: out.bytes,
    };
    const invalid = check?.(out.content);
    if (invalid !== undefined) throw new InvalidOutputError(`${invalid} (model ${name})`, success);
    if (check && ctx.onDelta && out.content) ctx.onDelta(out.content);
    return success;
  };
}
