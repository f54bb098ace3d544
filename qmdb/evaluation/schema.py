"""The evaluation tables: `matches` (the base of every evaluation view), `eval_ap`, `evaluations`, `eval_errors`;
and the SQL macros `wilson_low(successes, trials)`, `wilson_high(successes, trials)` the views use."""

from __future__ import annotations

from ..schema import migrations

MIGRATIONS = migrations("evaluation")(
    [
        """
        CREATE TABLE IF NOT EXISTS evaluations (
            model VARCHAR PRIMARY KEY,
            dataset VARCHAR,
            task VARCHAR NOT NULL,
            images BIGINT NOT NULL,
            labels BIGINT NOT NULL,
            predictions BIGINT NOT NULL,
            seconds DOUBLE,
            evaluated_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        );
        CREATE TABLE IF NOT EXISTS matches (
            model VARCHAR NOT NULL,
            threshold DOUBLE,
            item_type VARCHAR NOT NULL CHECK (item_type IN ('prediction', 'label')),
            image_id BIGINT NOT NULL,
            class VARCHAR NOT NULL,
            prediction_id BIGINT,
            label_id BIGINT,
            score DOUBLE,
            iou DOUBLE,
            outcome VARCHAR NOT NULL CHECK (outcome IN ('TP', 'FP', 'FN')),
            ignored BOOLEAN NOT NULL,
            det_rank INTEGER,
            label_score DOUBLE
        );
        CREATE TABLE IF NOT EXISTS eval_ap (
            model VARCHAR NOT NULL,
            class VARCHAR NOT NULL,
            threshold DOUBLE NOT NULL,
            area_range VARCHAR NOT NULL,
            max_dets INTEGER NOT NULL,
            ap DOUBLE,
            recall DOUBLE,
            gts BIGINT NOT NULL,
            dets BIGINT NOT NULL,
            PRIMARY KEY (model, class, threshold, area_range, max_dets)
        );
        -- Wilson score interval (95%) of successes out of trials; NULL without trials.
        CREATE OR REPLACE MACRO wilson_low(successes, trials) AS CASE WHEN trials > 0 THEN
            ((successes / trials + 1.959963984540054 ** 2 / (2 * trials))
             - 1.959963984540054 * sqrt((successes / trials) * (1 - successes / trials) / trials
                                        + 1.959963984540054 ** 2 / (4 * trials * trials)))
            / (1 + 1.959963984540054 ** 2 / trials) END;
        CREATE OR REPLACE MACRO wilson_high(successes, trials) AS CASE WHEN trials > 0 THEN
            ((successes / trials + 1.959963984540054 ** 2 / (2 * trials))
             + 1.959963984540054 * sqrt((successes / trials) * (1 - successes / trials) / trials
                                        + 1.959963984540054 ** 2 / (4 * trials * trials)))
            / (1 + 1.959963984540054 ** 2 / trials) END;
        """,
        # TIDE's error type of every evaluated prediction and label (qmdb.evaluation.errors).
        """
        CREATE TABLE IF NOT EXISTS eval_errors (
            model VARCHAR NOT NULL,
            iou_type VARCHAR NOT NULL DEFAULT 'bbox' CHECK (iou_type IN ('bbox', 'segm', 'keypoints')),
            item_type VARCHAR NOT NULL CHECK (item_type IN ('prediction', 'label')),
            image_id BIGINT NOT NULL,
            prediction_id BIGINT,
            label_id BIGINT,
            class VARCHAR NOT NULL,
            score DOUBLE,
            outcome VARCHAR NOT NULL CHECK (outcome IN ('TP', 'FP', 'FN', 'ignored')),
            error_type VARCHAR CHECK (error_type IN ('classification', 'localization', 'both', 'duplicate',
                                                     'background', 'missed')),
            target_class VARCHAR,
            iou DOUBLE,
            fixable BOOLEAN NOT NULL,
            image_order BIGINT NOT NULL,
            det_rank INTEGER NOT NULL
        );
        """,
        # Masks and keypoints are evaluated too: every eval table says which IoU (`bbox`, the default, also
        # for classifiers; `segm`; `keypoints`); a model has one evaluation per IoU type. Rerunnable (repair):
        # the keys change, so eval_ap and evaluations are copied by name into new tables.
        """
        ALTER TABLE matches ADD COLUMN IF NOT EXISTS iou_type VARCHAR DEFAULT 'bbox';
        ALTER TABLE eval_ap ADD COLUMN IF NOT EXISTS iou_type VARCHAR DEFAULT 'bbox';
        CREATE TABLE IF NOT EXISTS eval_ap_by_type (
            model VARCHAR NOT NULL,
            class VARCHAR NOT NULL,
            threshold DOUBLE NOT NULL,
            area_range VARCHAR NOT NULL,
            max_dets INTEGER NOT NULL,
            ap DOUBLE,
            recall DOUBLE,
            gts BIGINT NOT NULL,
            dets BIGINT NOT NULL,
            iou_type VARCHAR NOT NULL DEFAULT 'bbox' CHECK (iou_type IN ('bbox', 'segm', 'keypoints')),
            PRIMARY KEY (model, iou_type, class, threshold, area_range, max_dets)
        );
        INSERT INTO eval_ap_by_type BY NAME SELECT * FROM eval_ap;
        DROP TABLE eval_ap;
        ALTER TABLE eval_ap_by_type RENAME TO eval_ap;
        ALTER TABLE evaluations ADD COLUMN IF NOT EXISTS iou_type VARCHAR DEFAULT 'bbox';
        CREATE TABLE IF NOT EXISTS evaluations_by_type (
            model VARCHAR NOT NULL,
            dataset VARCHAR,
            task VARCHAR NOT NULL,
            images BIGINT NOT NULL,
            labels BIGINT NOT NULL,
            predictions BIGINT NOT NULL,
            seconds DOUBLE,
            evaluated_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            iou_type VARCHAR NOT NULL DEFAULT 'bbox' CHECK (iou_type IN ('bbox', 'segm', 'keypoints')),
            PRIMARY KEY (model, iou_type)
        );
        INSERT INTO evaluations_by_type BY NAME SELECT * FROM evaluations;
        DROP TABLE evaluations;
        ALTER TABLE evaluations_by_type RENAME TO evaluations;
        """,
        # Box metrics of predictions (qmdb.udfs.prediction_boxes): slice precision by the predicted box.
        """
        CREATE TABLE IF NOT EXISTS prediction_metrics (
            prediction_id BIGINT PRIMARY KEY,
            model VARCHAR NOT NULL,
            pred_box_area DOUBLE,
            pred_aspect_ratio DOUBLE,
            pred_border_distance DOUBLE,
            pred_area_rel DOUBLE,
            pred_brightness DOUBLE,
            computed_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        );
        """,
    ]
)

# Slice checks (`qmdb check`): the definitions and every run's result.
CHECKS = migrations("checks")(
    [
        """
        CREATE TABLE IF NOT EXISTS checks (
            name VARCHAR PRIMARY KEY,
            description VARCHAR,
            model VARCHAR,
            slice VARCHAR,
            view VARCHAR,
            figure VARCHAR NOT NULL,
            op VARCHAR NOT NULL DEFAULT '>=' CHECK (op IN ('>=', '>', '<=', '<')),
            threshold DOUBLE,
            baseline VARCHAR,
            max_drop DOUBLE,
            min_support BIGINT NOT NULL DEFAULT 0,
            require_interval BOOLEAN NOT NULL DEFAULT false,
            iou_threshold DOUBLE NOT NULL DEFAULT 0.5,
            min_score DOUBLE NOT NULL DEFAULT 0.0,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            CHECK (threshold IS NOT NULL OR max_drop IS NOT NULL),
            CHECK (slice IS NULL OR view IS NULL)
        );
        CREATE SEQUENCE IF NOT EXISTS check_run_seq START 1;
        CREATE TABLE IF NOT EXISTS check_runs (
            run_id BIGINT NOT NULL,
            run VARCHAR NOT NULL,
            check_name VARCHAR NOT NULL,
            model VARCHAR NOT NULL,
            figure VARCHAR NOT NULL,
            value DOUBLE,
            low DOUBLE,
            high DOUBLE,
            baseline VARCHAR,
            baseline_value DOUBLE,
            bound DOUBLE,
            images BIGINT,
            labels BIGINT,
            predictions BIGINT,
            status VARCHAR NOT NULL CHECK (status IN ('pass', 'fail', 'skip')),
            reason VARCHAR NOT NULL,
            ran_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            PRIMARY KEY (run_id, check_name, model)
        );
        """,
        # A check reads one evaluation: boxes (the default), masks or keypoints.
        """
        ALTER TABLE checks ADD COLUMN IF NOT EXISTS iou_type VARCHAR DEFAULT 'bbox';
        """,
    ]
)
