import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mjx_myoassist.config import ConfigError, CustomPolicyParams, load_config
from mjx_myoassist.ppo import networks
from tests.conftest import CONFIGS, fixture_path


def partial_layout(path):
    return networks.make_layout(load_config(path).policy_params.custom_policy_params, 44, 24)


def test_myoassist_partial_obs_layout():
    layout = partial_layout(fixture_path("imitation_tutorial_22_separated_net_partial_obs.json"))
    human, exo = layout.actors
    assert human.name == "human_actor" and human.obs_idx == tuple(range(44)) and human.act_idx == tuple(range(22))
    assert exo.name == "exo_actor" and exo.obs_idx == (0, 1, 8, 9) and exo.act_idx == (22, 23)
    assert exo.hidden == (8, 8) and layout.critic_obs_idx == tuple(range(44))


def test_exo_actor_reads_only_its_slices_and_writes_only_its_actions():
    layout = partial_layout(CONFIGS / "imitation_tutorial_22_separated_net_partial_obs.json")
    params = networks.init_params(layout, jax.random.PRNGKey(0))
    net = networks.ActorCritic(layout)
    obs = jax.random.normal(jax.random.PRNGKey(1), (44,))
    jac = jax.jacobian(lambda o: net.apply(params, o)[0])(obs)  # [24, 44]
    jac = np.asarray(jac)
    exo_cols = [0, 1, 8, 9]
    others = [i for i in range(44) if i not in exo_cols]
    assert np.all(jac[22:, others] == 0) and np.any(jac[22:, exo_cols] != 0)
    assert set(params["params"]) == {"human_actor", "exo_actor", "critic", "log_std"}
    assert params["params"]["exo_actor"]["Dense_0"]["kernel"].shape == (4, 8)


def test_single_actor_critic_without_indexing():
    config = load_config(CONFIGS / "humanoid_stand.json")
    layout = networks.make_layout(config.policy_params.custom_policy_params, 53, 21)
    assert [a.name for a in layout.actors] == ["pi"] and layout.actors[0].hidden == (256, 256)
    params = networks.init_params(layout, jax.random.PRNGKey(0))
    mean, log_std, value = networks.ActorCritic(layout).apply(params, jnp.zeros((5, 53)))
    assert mean.shape == (5, 21) and log_std.shape == (5, 21) and value.shape == (5,)
    np.testing.assert_allclose(log_std, config.policy_params.custom_policy_params.log_std_init)


def test_index_mapping_and_constant_actions():
    info = {
        "human_actor": {"observation": [{"type": "index", "index": [3, 0]}],
                        "action": [{"type": "index_mapping", "index_net": [0, 1], "index_action": [2, 0]}]},
        "common_critic": {"observation": [{"type": "range", "range": [0, 4]}]},
        "exo_actor": {"observation": [{"type": "index", "index": [1]}],
                      "action": [{"type": "constant", "index_action": [1], "value": -1.0}]},
    }  # fmt: skip
    params = CustomPolicyParams(
        net_arch={"human_actor": [4], "exo_actor": [2], "common_critic": [4]}, net_indexing_info=info
    )
    layout = networks.make_layout(params, 4, 3)
    assert layout.constants == ((1, -1.0),)
    np.testing.assert_array_equal(layout.noise_mask, [1, 0, 1])
    net_params = networks.init_params(layout, jax.random.PRNGKey(0))
    mean, _, _ = networks.ActorCritic(layout).apply(net_params, jnp.ones(4))
    assert float(mean[1]) == -1.0


def test_observation_out_of_range_is_a_config_error():
    config = load_config(CONFIGS / "test.json")
    with pytest.raises(ConfigError, match="reads observation index 43 but the observation has only 40"):
        networks.make_layout(config.policy_params.custom_policy_params, 40, 24)
    with pytest.raises(ConfigError, match=r"action indices \[24, 25\] are written by no actor"):
        networks.make_layout(config.policy_params.custom_policy_params, 44, 26)


def test_log_prob_and_entropy_of_gaussian():
    x, mean, log_std = jnp.array([0.5, 0.0]), jnp.zeros(2), jnp.log(jnp.array([1.0, 2.0]))
    want = -0.5 * 0.25 - 0.5 * np.log(2 * np.pi) + (-np.log(2.0) - 0.5 * np.log(2 * np.pi))
    assert float(networks.gaussian_log_prob(x, mean, log_std, jnp.ones(2))) == pytest.approx(want, rel=1e-5)
    ent = float(networks.gaussian_entropy(log_std, jnp.array([1.0, 0.0])))
    assert ent == pytest.approx(0.5 * np.log(2 * np.pi * np.e), rel=1e-5)


def test_myoassist_exo_off_constant_overrides_the_exo_actor():
    path = fixture_path("myoassist/rl_train/train/train_configs/imitation_tutorial_22_separated_net_exo_off.json")
    layout = partial_layout(path)
    assert layout.constants == ((22, 1.0), (23, 1.0)) and layout.actors[1].act_idx == (22, 23)
    np.testing.assert_array_equal(layout.noise_mask, [1.0] * 22 + [0.0, 0.0])
    params = networks.init_params(layout, jax.random.PRNGKey(0))
    mean, _, _ = networks.ActorCritic(layout).apply(params, jax.random.normal(jax.random.PRNGKey(1), (3, 44)))
    np.testing.assert_array_equal(mean[:, 22:], 1.0)
    assert np.all(np.asarray(mean[:, :22]) != 1.0)


def test_actor_output_activation_tanh_squashes_actors_not_the_critic():
    base = load_config(CONFIGS / "test.json").policy_params.custom_policy_params
    assert base.actor_output_activation == "tanh"  # MyoAssist's head is the default
    linear = networks.make_layout(dataclasses.replace(base, actor_output_activation="none"), 44, 24)
    tanh = networks.make_layout(base, 44, 24)
    params = networks.init_params(linear, jax.random.PRNGKey(0))
    params = jax.tree.map(lambda x: 300.0 * x, params)  # output pre-activations beyond +-1
    obs = jax.random.normal(jax.random.PRNGKey(1), (5, 44))
    mean_lin, _, value_lin = networks.ActorCritic(linear).apply(params, obs)
    mean_tanh, _, value_tanh = networks.ActorCritic(tanh).apply(params, obs)
    assert float(jnp.max(jnp.abs(mean_lin))) > 1.0
    np.testing.assert_allclose(mean_tanh, jnp.tanh(mean_lin), atol=1e-6)
    np.testing.assert_array_equal(value_tanh, value_lin)
    with pytest.raises(ConfigError, match=r"actor_output_activation 'sigmoid' is unknown. Use one of \('tanh'"):
        networks.make_layout(dataclasses.replace(base, actor_output_activation="sigmoid"), 44, 24)


def dense_kernels(params, network):
    layers = params["params"][network]
    return [np.asarray(layers[name]["kernel"]) for name in sorted(layers, key=lambda n: int(n.split("_")[1]))]


def orthogonal_gain(kernel):
    """The gain g of an orthogonal init: the kernel's singular values all equal g."""
    singular = np.linalg.svd(kernel, compute_uv=False)
    np.testing.assert_allclose(singular, singular[0], rtol=1e-4)
    return float(singular[0])


def test_weight_init_myoassist_is_orthogonal_gain_one_with_zero_biases_scaled_is_ppo_style():
    base = load_config(CONFIGS / "test.json").policy_params.custom_policy_params
    assert base.weight_init == "myoassist"
    ours = networks.init_params(networks.make_layout(base, 44, 24), jax.random.PRNGKey(0))
    for network in ("human_actor", "exo_actor", "critic"):
        assert [orthogonal_gain(k) for k in dense_kernels(ours, network)] == pytest.approx([1.0, 1.0, 1.0], rel=1e-4)
    biases = [layer["bias"] for name, net in ours["params"].items() if name != "log_std" for layer in net.values()]
    assert len(biases) == 9 and not any(np.any(np.asarray(b)) for b in biases)
    scaled = networks.make_layout(dataclasses.replace(base, weight_init="scaled"), 44, 24)
    params = networks.init_params(scaled, jax.random.PRNGKey(0))
    root2 = float(np.sqrt(2))
    assert [orthogonal_gain(k) for k in dense_kernels(params, "human_actor")] == pytest.approx([root2, root2, 0.01])
    assert [orthogonal_gain(k) for k in dense_kernels(params, "critic")] == pytest.approx([root2, root2, 1.0])
