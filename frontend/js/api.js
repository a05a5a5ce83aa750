// The page's client for the service's JSON API (same origin only): GET /model, POST /predict and
// /predict/batch, and the model index GET v2/models. `useModel(name)` makes later calls ask for that model (?model=NAME).
//
// Every request has a timeout. `predict` and `predictBatch` are latest-wins (one queue for both): a new
// call aborts the one in flight, and an answer that arrives after a newer request was made resolves to
// null instead of being shown, so a slow, stale answer never overwrites a newer one. Failures become ApiError with a message fit for
// the page and a `retryable` flag. Leaves out retry timing and rendering (main.js, view.js).

const TIMEOUT_MS = 8000;

export class ApiError extends Error {
  constructor(message, { status = 0, retryable = false } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.retryable = retryable;
  }
}

/** fetch JSON with a timeout; `controller` lets the caller abort it. Throws ApiError, or AbortError when aborted. */
export async function fetchJson(path, options, controller) {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, TIMEOUT_MS);
  try {
    const response = await fetch(path, {
      ...options,
      signal: controller.signal,
      headers: { Accept: "application/json", ...options.headers },
      cache: "no-store",
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw httpError(response.status, body);
    if (body === null) throw new ApiError("The server sent an answer that is not JSON.", { retryable: true });
    return body;
  } catch (error) {
    if (timedOut) throw new ApiError("The server did not answer in time; retrying…", { retryable: true });
    if (error.name === "AbortError" || error instanceof ApiError) throw error;
    // fetch rejects with a TypeError when the server cannot be reached at all
    throw new ApiError("Cannot reach the server; retrying…", { retryable: true });
  } finally {
    clearTimeout(timer);
  }
}

/** An ApiError saying what the status and FastAPI's {"detail": ...} body mean. */
function httpError(status, body) {
  if (status === 422 || status === 400 || status === 413 || status === 404) {
    const detail = Array.isArray(body?.detail) ? body.detail[0]?.msg : body?.detail;
    return new ApiError(`The server refused the drawing: ${detail || `HTTP ${status}`}`, { status });
  }
  if (status === 429) return new ApiError("Too many requests; retrying shortly…", { status, retryable: true });
  return new ApiError(`The server had a problem (HTTP ${status}); retrying…`, { status, retryable: status >= 500 });
}

/**
 * The answer of /predict, checked: { digit, confidence, probabilities[10], isDigit }. isDigit is false
 * when the server says the drawing is not a digit at all; a server that does not say counts as "digit".
 */
function checkPrediction(body) {
  const probabilities = body?.probabilities;
  const valid =
    Number.isInteger(body?.digit) && body.digit >= 0 && body.digit <= 9 &&
    Number.isFinite(body?.confidence) &&
    Array.isArray(probabilities) && probabilities.length === 10 && probabilities.every(Number.isFinite) &&
    (body.is_digit === undefined || typeof body.is_digit === "boolean");
  if (!valid) throw new ApiError("The server sent an unexpected answer.", { retryable: false });
  return { digit: body.digit, confidence: body.confidence, probabilities, isDigit: body.is_digit !== false };
}

/** A path with ?model=NAME when a model was chosen. */
export function withModel(path, model) {
  return model ? `${path}?model=${encodeURIComponent(model)}` : path;
}

export function createClient() {
  let latest = 0; // ticket of the newest predict call
  let inFlight = null; // its AbortController
  let model = null; // the chosen model's name; null: the server's default

  /** POST `payload` to `path`; the newest call wins (see the module comment). */
  async function latestWins(path, payload, check) {
    const ticket = ++latest;
    inFlight?.abort();
    const controller = (inFlight = new AbortController());
    try {
      const body = await fetchJson(
        withModel(path, model),
        { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload) },
        controller,
      );
      return ticket === latest ? check(body) : null;
    } catch (error) {
      if (ticket !== latest) return null; // failed after being superseded: nobody is waiting for it
      throw error;
    } finally {
      if (inFlight === controller) inFlight = null;
    }
  }

  return {
    /** The model card (JSON object) of the chosen model. */
    getModel() {
      return fetchJson(withModel("model", model), { method: "GET", headers: {} }, new AbortController());
    },

    /** The models the server offers: [{ name, version }], the default first. */
    async listModels() {
      const index = await fetchJson("v2/models", { method: "GET", headers: {} }, new AbortController());
      if (!Array.isArray(index) || !index.every((entry) => typeof entry?.name === "string")) {
        throw new ApiError("The server sent an unexpected model list.", { retryable: false });
      }
      return index.map(({ name, version }) => ({ name, version }));
    },

    /** Ask for this model from now on; an answer for the previous one still in flight is dropped. */
    useModel(name) {
      model = name;
      this.cancel();
    },

    /** 784 numbers in [0, 1] -> the prediction, or null when a newer call (or cancel) superseded it. */
    predict(pixels) {
      return latestWins("predict", { pixels: Array.from(pixels) }, checkPrediction);
    },

    /** Several digits' 784 numbers -> their predictions in order (one /predict/batch), or null when superseded. */
    predictBatch(images) {
      return latestWins("predict/batch", { images: images.map((pixels) => Array.from(pixels)) }, (body) => {
        const predictions = body?.predictions;
        if (!Array.isArray(predictions) || predictions.length !== images.length) {
          throw new ApiError("The server sent an unexpected answer.", { retryable: false });
        }
        return predictions.map(checkPrediction);
      });
    },

    /** Forget any request in flight: its answer, if it comes, is ignored. */
    cancel() {
      latest++;
      inFlight?.abort();
      inFlight = null;
    },
  };
}
