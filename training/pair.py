"""Exported models merged into one ONNX graph that averages their probabilities: no TensorFlow, no float weights.

The shipped model exists only as its int8 file, so an ensemble with it is made from the files themselves: every
member's graph, names prefixed, reads the one face input, and a Mean node averages their outputs.
"""

from __future__ import annotations

from pathlib import Path

from monitor.errors import EngageError
from monitor.perception.model import ModelCard, card_path_for

INPUT, OUTPUT = "face", "expression"


def merged_graph(paths: list[Path], by_member: bool = False) -> object:
    """One onnx.ModelProto feeding `INPUT` to every member and averaging their single outputs into `OUTPUT`, or
    with `by_member` stacking them there, shape (n, members, classes), for the runtime to weigh."""
    import onnx
    from onnx import compose, helper

    members = [onnx.load(str(path)) for path in paths]
    nodes, initializers, outputs, opsets = [], [], [], {}
    for index, member in enumerate(members):
        if len(member.graph.input) != 1 or len(member.graph.output) != 1:
            raise EngageError(f"{paths[index]}: a model with one input and one output is expected")
        graph = compose.add_prefix(member, f"member{index}/").graph
        (face,) = graph.input
        for node in graph.node:  # every member reads the shared input
            node.input[:] = [INPUT if name == face.name else name for name in node.input]
        nodes += graph.node
        initializers += graph.initializer
        outputs.append(graph.output[0].name)
        for opset in member.opset_import:
            opsets[opset.domain] = max(opsets.get(opset.domain, 0), opset.version)
    face = helper.make_value_info(INPUT, members[0].graph.input[0].type)
    if by_member:
        axis = helper.make_tensor("member_axis", onnx.TensorProto.INT64, [1], [1])
        initializers.append(axis)
        nodes += [helper.make_node("Unsqueeze", [name, axis.name], [f"{name}/one"]) for name in outputs]
        nodes.append(helper.make_node("Concat", [f"{name}/one" for name in outputs], [OUTPUT], axis=1, name="stack"))
        classes = members[0].graph.output[0].type.tensor_type.shape.dim[1].dim_value
        result = helper.make_tensor_value_info(OUTPUT, onnx.TensorProto.FLOAT, ["n", len(members), classes])
    else:
        result = helper.make_value_info(OUTPUT, members[0].graph.output[0].type)
        nodes.append(helper.make_node("Mean", outputs, [OUTPUT], name="average"))
    graph = helper.make_graph(nodes, f"average_of_{len(members)}", [face], [result], initializers)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid(domain, version) for domain, version in sorted(opsets.items())],
        producer_name="engage combine",
    )
    model.ir_version = max(member.ir_version for member in members)
    onnx.checker.check_model(model)
    return model


def combine_exported(paths: list[Path], out: Path, sizes: list[int] | None = None) -> Path:
    """Write `out`/model.onnx averaging the exported models, and its card (views of the first, no class bias:
    `engage evaluate --split val --fit-bias` chooses the pair's). With `sizes` (face sides in px) the model gives
    each member's probabilities and its card weighs them by the face's size, equally until `--fit-bias` fits them."""
    import onnx

    if len(paths) < 2:
        raise EngageError("give at least two .onnx models to combine")
    for path in paths:
        if not path.is_file():
            raise EngageError(f"model file {path} is missing")
    cards = [ModelCard.read(card_path_for(path)) for path in paths]
    if len({card.input_size for card in cards}) > 1:
        raise EngageError(f"the models take different input sizes {sorted({c.input_size for c in cards})}")
    if any(card.mapping != cards[0].mapping or card.color != cards[0].color for card in cards):
        raise EngageError("the models map emotions to classes differently; an ensemble needs one mapping")
    first = cards[0]
    card = ModelCard(
        version="+".join(card.version for card in cards),  # a new version, naming what it averages
        input_size=first.input_size,
        color=first.color,
        preprocessing=first.preprocessing,
        mapping=first.mapping,
        architecture=f"{'weighed by face size' if sizes else 'average'} of {len(cards)} exported models: "
        + "; ".join(c.architecture for c in cards),
        quantization="+".join(sorted({c.quantization for c in cards})),
        views=first.views,
        member_weights={str(side): [round(1 / len(paths), 4)] * len(paths) for side in sorted(sizes or [])},
        training={
            "members": [
                {"file": path.name, "version": c.version} | c.training for path, c in zip(paths, cards, strict=True)
            ]
        },
    )
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / "model.onnx"
    onnx.save(merged_graph(paths, by_member=bool(sizes)), str(model_path))
    card.write(card_path_for(model_path))
    return model_path
