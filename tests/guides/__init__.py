"""Every feature the Keras 3 guides use, and the test that covers it.

One file here per guide (``test_<guide>_guide.py``; the MNIST example in
``test_mnist_convnet_example.py``), written for glassnet, not copied from the
guides; each test's docstring names the guide feature it covers. A feature
that another file already tested is pointed to, not tested again. Strict
``xfail`` marks what glassnet does not do yet (their reasons say why).

:data:`COVERAGE` is the table: ``(guide section, feature, tests)``, each test
as ``"file::name"`` with the file relative to ``tests/``; ``test_coverage.py``
checks that every test it names exists and that every guide test is in it.
"""

SEQ = "guides/test_sequential_guide.py"
TRN = "guides/test_training_guide.py"
CBK = "guides/test_callbacks_guide.py"
FUN = "guides/test_functional_guide.py"
SUB = "guides/test_subclassing_guide.py"
FIT = "guides/test_custom_fit_guide.py"
MNI = "guides/test_mnist_convnet_example.py"

SEQUENTIAL = "The Sequential model"
TRAINING = "Training & evaluation with the built-in methods"
CALLBACKS = "Writing your own callbacks"
FUNCTIONAL = "The Functional API"
SUBCLASSING = "Making new layers and models via subclassing"
CUSTOM_FIT = "Customizing what happens in fit() (PyTorch version)"
MNIST = "Simple MNIST convnet (MNIST shrunk to load_digits)"

COVERAGE = [
    # --- The Sequential model ---------------------------------------------------
    (SEQUENTIAL, "a Sequential model is its layers called in turn", [
        f"{SEQ}::test_a_sequential_model_is_its_layers_called_in_turn",
    ]),
    (SEQUENTIAL, "model.layers, add(), pop(), Sequential(name=...)", [
        f"{SEQ}::test_add_pop_and_name_make_it_behave_like_a_list_of_layers",
        "models/test_model.py::test_sequential_add_pop_and_lazy_build",
    ]),
    (SEQUENTIAL, "a layer gets its weights from its first input", [
        f"{SEQ}::test_a_layer_has_weights_only_once_it_has_seen_an_input",
    ]),
    (SEQUENTIAL, "no input shape: unbuilt (no weights, unbuilt summary)", [
        f"{SEQ}::test_a_sequential_model_without_an_input_is_built_by_its_first_call",
        "models/test_summary.py::test_unbuilt_model_summary",
    ]),
    (SEQUENTIAL, "add(keras.Input(shape)); input_shape= on the first layer", [
        f"{SEQ}::test_an_input_first_gives_a_built_model_whose_layers_leave_it_out",
    ]),
    (SEQUENTIAL, "add() + summary() with strided Conv2D and poolings", [
        f"{SEQ}::test_add_and_summary_show_how_convolutions_shrink_the_image",
        "models/test_summary.py::test_summary_equals_keras",
    ]),
    (SEQUENTIAL, "feature extraction: every layer's output", [
        "models/test_functional.py::test_feature_extractor_of_a_sequential_equals_keras",
    ]),
    (SEQUENTIAL, "feature extraction: get_layer(name=...).output", [
        f"{SEQ}::test_features_of_one_named_layer",
    ]),
    (SEQUENTIAL, "transfer learning: load_weights, freeze all but the last", [
        f"{SEQ}::test_freezing_all_but_the_last_layer_trains_only_the_last",
    ]),
    (SEQUENTIAL, "transfer learning: a frozen base model under a new head", [
        f"{SEQ}::test_a_frozen_base_model_under_a_new_head",
        f"{SEQ}::test_the_frozen_base_counts_as_non_trainable_in_the_summary",
    ]),
    # --- Training & evaluation with the built-in methods --------------------------
    (TRAINING, "compile (objects or strings), fit(validation_data), History, "
     "evaluate, predict", [
        f"{TRN}::test_the_end_to_end_workflow_fit_evaluate_predict",
        "models/test_model.py::test_validation_data_and_metrics_in_history",
    ]),
    (TRAINING, "a loss function (y_true, y_pred); ops.one_hot targets", [
        f"{TRN}::test_a_loss_function_of_targets_and_predictions",
    ]),
    (TRAINING, "a keras.losses.Loss subclass with a parameter", [
        f"{TRN}::test_a_loss_subclass_with_its_own_parameter",
    ]),
    (TRAINING, "a keras.metrics.Metric subclass (add_variable, reset_state)", [
        f"{TRN}::test_a_metric_subclass_with_state_update_result_and_reset",
        f"{TRN}::test_the_metric_written_with_the_equality_operator",  # xfail
    ]),
    (TRAINING, "add_loss in a layer of a functional model", [
        f"{TRN}::test_a_layer_adds_a_loss_to_what_fit_minimizes",
    ]),
    (TRAINING, "compile without a loss when the model adds its own", [
        "models/test_subclassed_models.py::"
        "test_a_model_compiled_without_a_loss_minimizes_its_own",
    ]),
    (TRAINING, "an endpoint layer that takes the targets as a model input", [
        f"{TRN}::test_an_endpoint_layer_taking_the_targets_as_an_input_predicts",
        f"{TRN}::test_an_endpoint_model_compiled_without_a_loss_fits_on_a_dict",
    ]),
    (TRAINING, "validation_split", [
        "models/test_model.py::test_validation_split_holds_out_the_last_samples",
    ]),
    (TRAINING, "datasets: steps_per_epoch, validation_data, validation_steps", [
        "models/test_data_adapter.py::test_batches_train_as_in_keras",
        "reliability/test_training_arguments.py::test_steps_limit_the_batches",
    ]),
    (TRAINING, "a PyDataset subclass (workers=...) to fit and evaluate", [
        f"{TRN}::test_a_py_dataset_with_workers_trains_validates_and_evaluates",
        "utils/test_py_dataset.py::test_fit_evaluate_and_predict_take_it",
        f"{TRN}::test_the_guide_passes_batch_size_with_a_py_dataset",
    ]),
    (TRAINING, "a PyTorch DataLoader", [
        "models/test_data_adapter.py::test_a_torch_data_loader_is_an_iterable_of_batches",
    ]),
    (TRAINING, "class_weight, sample_weight, (x, y, sample_weight) batches", [
        f"{TRN}::test_class_weights_weigh_samples_as_the_same_sample_weights_do",
        "models/test_model.py::test_class_weight_is_a_per_class_sample_weight",
    ]),
    (TRAINING, "several inputs and outputs: lists and dicts of arrays", [
        f"{TRN}::test_a_model_of_two_inputs_and_two_outputs_predicts_from_lists_and_dicts",
    ]),
    (TRAINING, "a loss and metrics per output, loss_weights, fit on dicts", [
        f"{TRN}::test_a_loss_per_output_with_loss_weights_fits_on_dicts",
    ]),
    (TRAINING, "EarlyStopping(monitor, min_delta, patience)", [
        "test_callbacks.py::test_early_stopping_min_delta_mode_and_baseline",
    ]),
    (TRAINING, "a callback recording every batch's loss (on_batch_end)", [
        f"{TRN}::test_a_callback_keeps_the_loss_of_every_batch",
    ]),
    (TRAINING, "ModelCheckpoint; restore the latest checkpoint and go on", [
        f"{TRN}::test_checkpoints_restore_the_latest_model_to_train_on",
        "callbacks/test_checkpoint.py::test_save_best_only_by_mode",
    ]),
    (TRAINING, "a learning-rate schedule object (ExponentialDecay)", [
        f"{TRN}::test_a_schedule_as_the_learning_rate_decays_the_steps",
        "test_schedules.py::test_updates_with_a_schedule_equal_keras",
    ]),
    (TRAINING, "ReduceLROnPlateau", [
        "test_callbacks.py::test_reduce_lr_on_plateau",
    ]),
    (TRAINING, "the TensorBoard callback", [
        f"{TRN}::test_the_tensorboard_callback",
        "callbacks/test_tensorboard.py::"
        "test_the_epoch_logs_equal_the_history_in_train_and_validation",
    ]),
    # --- Writing your own callbacks -----------------------------------------------
    (CALLBACKS, "every hook in fit, evaluate and predict; their logs", [
        f"{CBK}::test_every_hook_runs_in_keras_order_with_keras_logs",
        "test_callbacks.py::test_hooks_logs_and_params_are_keras_s",
    ]),
    (CALLBACKS, "logs['loss'] and logs['mean_absolute_error']", [
        f"{CBK}::test_logs_hold_the_running_loss_and_metric_of_the_epoch",
    ]),
    (CALLBACKS, "self.model: get/set_weights, stop_training (early stopping)", [
        f"{CBK}::test_a_callback_stops_training_and_restores_the_best_weights",
    ]),
    (CALLBACKS, "self.model.optimizer.learning_rate read and set", [
        f"{CBK}::test_a_callback_sets_the_learning_rate_each_epoch",
        "test_callbacks.py::test_learning_rate_scheduler_changes_the_optimizer",
    ]),
    # --- The Functional API -------------------------------------------------------
    (FUNCTIONAL, "Input's shape and dtype", [
        "models/test_functional.py::test_symbolic_tensors_have_keras_shapes_and_dtypes",
    ]),
    (FUNCTIONAL, "Model(inputs, outputs, name=...), summary()", [
        "models/test_functional.py::test_summary_equals_keras",
    ]),
    (FUNCTIONAL, "keras.utils.plot_model(model, 'file.png', show_shapes=True)", [
        f"{FUN}::test_plot_model_writes_a_file_as_keras_does",
    ]),
    (FUNCTIONAL, "train and evaluate: from-logits loss, 'accuracy'", [
        f"{FUN}::test_train_evaluate_and_predict_a_functional_classifier",
    ]),
    (FUNCTIONAL, "save() and load_model()", [
        "saving/test_files.py::test_functional_chain_round_trip",
        "saving/test_keras_interop.py::test_graph_files_cross_both_ways",
    ]),
    (FUNCTIONAL, "one graph of layers, two models", [
        f"{FUN}::test_one_graph_of_layers_makes_two_models_that_share_them",
    ]),
    (FUNCTIONAL, "models are callable, like layers", [
        f"{FUN}::test_models_called_like_layers_compose_an_autoencoder",
        "models/test_functional.py::test_a_model_is_a_layer_on_new_symbolic_and_eager_inputs",
    ]),
    (FUNCTIONAL, "ensembling with layers.average", [
        f"{FUN}::test_an_ensemble_averages_the_outputs_of_three_models",
    ]),
    (FUNCTIONAL, "several inputs and outputs (the tickets model)", [
        f"{FUN}::test_the_ticket_model_of_three_inputs_and_two_outputs_predicts",
        f"{FUN}::test_the_ticket_model_trains_with_a_loss_per_output",
    ]),
    (FUNCTIONAL, "a toy ResNet (layers.add)", [
        f"{FUN}::test_a_toy_resnet_trains",
    ]),
    (FUNCTIONAL, "shared layers", [
        f"{FUN}::test_one_embedding_shared_by_two_text_inputs",
        "models/test_functional.py::"
        "test_a_shared_layer_has_one_set_of_weights_and_both_gradients",
    ]),
    (FUNCTIONAL, "extracting and reusing nodes of the graph", [
        "models/test_functional.py::test_intermediate_tensors_make_a_sub_model",
    ]),
    (FUNCTIONAL, "a custom layer; from_config with custom_objects", [
        "models/test_functional.py::"
        "test_a_graph_of_a_user_layer_rebuilds_with_custom_objects",
        "layers/test_subclassing.py::"
        "test_a_subclassed_layer_in_a_functional_model_equals_keras",
    ]),
    (FUNCTIONAL, "mixing styles: a functional model in a subclassed layer", [
        f"{FUN}::test_a_functional_model_inside_a_subclassed_layer",
    ]),
    (FUNCTIONAL, "mixing styles: a subclassed layer in a batch_shape model", [
        f"{FUN}::test_a_subclassed_layer_inside_a_functional_model_of_a_fixed_batch",
    ]),
    # --- Making new layers and models via subclassing ------------------------------
    (SUBCLASSING, "add_weight in __init__; weights tracked as attributes", [
        f"{SUB}::test_weights_made_in_init_are_tracked_and_used",
    ]),
    (SUBCLASSING, "non-trainable weights updated with assign_add", [
        f"{SUB}::test_a_non_trainable_weight_accumulates_with_assign_add",
    ]),
    (SUBCLASSING, "build(input_shape); layers made of layers, keras.ops", [
        f"{SUB}::test_weights_wait_for_build_and_nested_layers_are_tracked",
        "layers/test_subclassing.py::"
        "test_tracked_weights_names_order_flags_and_outputs_equal_keras",
    ]),
    (SUBCLASSING, "add_loss: reset at each call; regularization penalties", [
        f"{SUB}::test_add_loss_values_start_again_at_each_call",
        "layers/test_subclassing.py::test_losses_equal_keras",
    ]),
    (SUBCLASSING, "added losses in fit, with or without a compiled loss", [
        f"{SUB}::test_fit_minimizes_added_losses_with_or_without_a_compiled_loss",
        f"{SUB}::test_fit_with_weights_takes_the_added_loss_into_its_gradient",
    ]),
    (SUBCLASSING, "get_config / from_config", [
        f"{SUB}::test_the_config_rebuilds_the_layer",
    ]),
    (SUBCLASSING, "the training argument; keras.random.dropout, SeedGenerator", [
        f"{SUB}::test_the_training_argument_switches_a_seeded_dropout",
        "layers/test_subclassing.py::test_training_reaches_nested_calls_as_in_keras",
    ]),
    (SUBCLASSING, "the mask argument (Embedding(mask_zero=True))", [
        f"{SUB}::test_a_layer_declaring_mask_receives_the_embedding_mask",
    ]),
    (SUBCLASSING, "the Model class: fit, evaluate, predict, save, summary", [
        "models/test_subclassed_models.py::test_training_a_subclassed_model_equals_keras",
        "models/test_subclassed_models.py::"
        "test_registered_subclassed_layers_round_trip_through_keras_files",
    ]),
    (SUBCLASSING, "putting it all together: the variational autoencoder", [
        f"{SUB}::test_a_variational_autoencoder_trains_end_to_end",
    ]),
    # --- Customizing what happens in fit() (PyTorch version) ------------------------
    (CUSTOM_FIT, "train_step: compute_loss, backward, optimizer.apply, metrics", [
        "models/test_train_step.py::test_the_guides_train_step_trains_as_in_keras",
        f"{FIT}::test_the_torch_spelling_of_the_step_trains_as_the_built_in_one",
    ]),
    (CUSTOM_FIT, "going lower level: own trackers, the metrics property", [
        "models/test_train_step.py::test_compile_with_only_an_optimizer_and_own_trackers",
    ]),
    (CUSTOM_FIT, "sample_weight and class_weight in a custom step", [
        "models/test_train_step.py::test_the_guides_train_step_trains_as_in_keras",
    ]),
    (CUSTOM_FIT, "your own test_step", [
        "models/test_train_step.py::test_the_guides_test_step_evaluates_as_in_keras",
    ]),
    (CUSTOM_FIT, "the GAN: own compile, two models and optimizers, DataLoader", [
        f"{FIT}::test_a_gan_trains_two_models_with_two_optimizers",
    ]),
    (CUSTOM_FIT, "layers.LeakyReLU", [
        f"{FIT}::test_the_guide_s_leaky_relu_layer",
    ]),
    # --- Simple MNIST convnet -----------------------------------------------------
    (MNIST, "data: scaled float32, expand_dims, to_categorical", [
        f"{MNI}::test_the_data_is_prepared_as_the_example_prepares_mnist",
    ]),
    (MNIST, "the convnet and its summary()", [
        f"{MNI}::test_the_model_and_its_summary_equal_keras",
    ]),
    (MNIST, "compile, fit(batch_size=128, validation_split=0.1), evaluate", [
        f"{MNI}::test_train_and_evaluate_as_the_example_does",
    ]),
]  # fmt: skip
