// The model menu: lists the server's models (GET v2/models) in a <select>, and reports a choice.
//
// With one model there is nothing to choose: the menu stays hidden. If the list cannot be loaded the
// page works on with the default model. Leaves out the requests themselves (api.js) and what a change
// does to the page (main.js).

/** Fill `select` with the models `api.listModels()` gives; show `container` if there are two or more. */
export async function offerModels(select, container, api, onChoose) {
  let models;
  try {
    models = await api.listModels();
  } catch {
    return; // the default model still answers; the menu is a convenience
  }
  if (models.length < 2) return;
  select.replaceChildren(
    ...models.map(({ name }) => {
      const option = select.ownerDocument.createElement("option");
      option.value = name;
      option.textContent = name;
      return option;
    }),
  );
  select.value = models[0].name;
  select.addEventListener("change", () => onChoose(select.value));
  container.hidden = false;
}
