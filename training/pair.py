"""Exported models merged into one ONNX graph: no TensorFlow, no float weights.

The shipped model exists only as its int8 file, so an ensemble with it is made from the files themselves: every
member's graph, names prefixed, either reads the one face input with a Mean node averaging their outputs, or keeps
its own input and output, for a runtime that weighs the members by face size and feeds each only the faces it weighs.
"""

from __future__ import annotations

from pathlib import Path

from monitor.errors import EngageError
from monitor.perception.model import ModelCard, card_path_for

INPUT, OUTPUT = "face", "expression"


def merged_graph(paths: list[Path], by_member: bool = False) -> object:
    """One onnx.ModelProto feeding `INPUT` to every member and averaging their single outputs into `OUTPUT`, or with
    `by_member` one input and one output per member (`INPUT`0, `OUTPUT`0, ...), each with its own batch size."""
    import onnx
    from onnx import compose, helper

    members = [onnx.load(str(path)) for path in paths]
    nodes, initializers, inputs, outputs, opsets = [], [], [], [], {}
    for index, member in enumerate(members):
        if len(member.graph.input) != 1 or len(member.graph.output) != 1:
            raise EngageError(f"{paths[index]}: a model with one input and one output is expected")
        graph = compose.add_prefix(member, f"member{index}/").graph
        (face,), (output,) = graph.input, graph.output
        name = INPUT + str(index) if by_member else INPUT
        for value in (*graph.input, *graph.output, *graph.value_info) if by_member else ():
            for dim in value.type.tensor_type.shape.dim:  # each member's batch its own size
                if dim.dim_param:
                    dim.dim_param = f"member{index}_{dim.dim_param}"
        for node in graph.node:
            node.input[:] = [name if value == face.name else value for value in node.input]
        nodes += graph.node
        if by_member:
            inputs.append(helper.make_value_info(name, face.type))
            nodes.append(helper.make_node("Identity", [output.name], [OUTPUT + str(index)], name=f"output{index}"))
            outputs.append(helper.make_value_info(OUTPUT + str(index), output.type))
        else:
            outputs.append(output.name)
        initializers += graph.initializer
        for opset in member.opset_import:
            opsets[opset.domain] = max(opsets.get(opset.domain, 0), opset.version)
    if not by_member:
        inputs = [helper.make_value_info(INPUT, members[0].graph.input[0].type)]
        nodes.append(helper.make_node("Mean", outputs, [OUTPUT], name="average"))
        outputs = [helper.make_value_info(OUTPUT, members[0].graph.output[0].type)]
    graph = helper.make_graph(
        nodes, f"{'members' if by_member else 'average'}_of_{len(members)}", inputs, outputs, initializers
    )
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
    each member's probabilities from its own input and its card weighs them by the face's size, equally until
    `--fit-bias` fits them."""
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
